//! The operator's and room author's commands beside `serve`: `deploy` (upload
//! a module to a running host), `new` (scaffold a room project) and `dev`
//! (serve, watch room crates, rebuild and hot-swap them).

pub mod deploy;
pub mod dev;
pub mod scaffold;
pub mod scaffold_js;
pub mod scaffold_py;
