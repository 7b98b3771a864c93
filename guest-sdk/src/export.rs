//! The bridge from wit-bindgen's `Guest` trait to a [`Room`].
//!
//! [`export_room!`](crate::export_room) exports `Adapter<MyRoom>` as the
//! component's hooks. The adapter keeps the one room value of the wasm
//! instance in a cell, makes it on the first hook, and converts the WIT types
//! into this crate's on the way in and back on the way out.

use std::any::Any;
use std::cell::RefCell;
use std::marker::PhantomData;

use crate::bindings::{self, ConnectRequest as WitConnectRequest, HttpRequest, HttpResponse};
use crate::{ConnectRequest, Connection, HookError, HookResult, Message, Request, Room};

thread_local! {
    /// The room value of this instance. It is type-erased because a static
    /// cannot be generic; the one `Adapter<R>` a component exports is the only
    /// code that fills or reads it, always with the same `R`.
    static INSTANCE: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

/// Implements wit-bindgen's `Guest` for the room type `R`.
pub struct Adapter<R>(PhantomData<R>);

impl<R: Room> bindings::Guest for Adapter<R> {
    fn on_start() -> Result<(), String> {
        run::<R, _>(|room| room.on_start())
    }

    fn on_connect(conn: String, request: WitConnectRequest) -> Result<(), String> {
        let (conn, request) = (Connection::new(conn), ConnectRequest::from(request));
        run::<R, _>(|room| room.on_connect(&conn, &request))
    }

    fn on_message(conn: String, msg: bindings::Message) -> Result<(), String> {
        let conn = Connection::new(conn);
        run::<R, _>(|room| room.on_message(&conn, Message::from(msg)))
    }

    fn on_close(conn: String, code: u16, reason: String, was_clean: bool) -> Result<(), String> {
        let conn = Connection::new(conn);
        run::<R, _>(|room| room.on_close(&conn, code, &reason, was_clean))
    }

    fn on_error(conn: String, error: String) -> Result<(), String> {
        let conn = Connection::new(conn);
        run::<R, _>(|room| room.on_error(&conn, &error))
    }

    fn on_request(request: HttpRequest) -> Result<HttpResponse, String> {
        run::<R, _>(|room| room.on_request(Request::from(request))).map(HttpResponse::from)
    }

    fn on_alarm() -> Result<(), String> {
        run::<R, _>(|room| room.on_alarm())
    }

    fn on_before_connect(request: HttpRequest) -> bindings::Admission {
        R::on_before_connect(&Request::from(request)).into()
    }

    fn on_before_request(request: HttpRequest) -> bindings::Admission {
        R::on_before_request(&Request::from(request)).into()
    }
}

/// Runs one hook on the instance's room value, making it first if needed.
fn run<R: Room, T>(hook: impl FnOnce(&mut R) -> HookResult<T>) -> Result<T, String> {
    INSTANCE.with(|cell| {
        // The host never calls a hook while another runs, so the cell is free
        // unless a hook calls back into this module, which none can.
        let mut slot = cell
            .try_borrow_mut()
            .map_err(|_| "room hook called while another was running".to_owned())?;
        let room = slot.get_or_insert_with(|| Box::new(R::new()));
        let room = room
            .downcast_mut::<R>()
            .ok_or_else(|| "room instance has an unexpected type".to_owned())?;
        hook(room).map_err(HookError::into_message)
    })
}
