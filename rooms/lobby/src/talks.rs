//! The lobby's list of talks, without any host call, so that its rules are
//! testable natively.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The prefix of every talk's storage key; the rest is `<party>/<room>`.
pub const KEY_PREFIX: &str = "talk:";

/// The most talks one lobby lists.
pub const MAX_TALKS: usize = 1000;

/// The most reaction kinds one talk reports.
pub const MAX_KINDS: usize = 100;

/// One talk's reaction counts, as its room last reported them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// The count of each reaction kind.
    pub counts: BTreeMap<String, u64>,
}

impl Report {
    /// Returns the sum of all counts.
    pub fn total(&self) -> u64 {
        self.counts
            .values()
            .fold(0, |sum, n| sum.saturating_add(*n))
    }
}

/// Why a report was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The lobby already lists [`MAX_TALKS`] other talks.
    Full,
    /// The report names more than [`MAX_KINDS`] kinds.
    TooManyKinds,
}

/// One entry of the list clients see.
#[derive(Debug, Serialize)]
pub struct TalkView<'a> {
    /// The talk's party.
    pub party: &'a str,
    /// The talk's room id.
    pub room: &'a str,
    /// Its counts.
    pub counts: &'a BTreeMap<String, u64>,
    /// The sum of its counts.
    pub total: u64,
}

/// What the lobby sends to clients and answers to `GET`.
#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Outgoing<'a> {
    /// Every talk, most reactions first.
    Talks {
        /// The talks.
        talks: Vec<TalkView<'a>>,
    },
}

/// The talks, by `<party>/<room>`.
#[derive(Debug, Default)]
pub struct Talks {
    reports: BTreeMap<String, Report>,
}

impl Talks {
    /// Rebuilds the list from stored `(key, JSON)` entries; returns it and
    /// the keys that did not hold a valid report.
    pub fn load(entries: Vec<(String, Vec<u8>)>) -> (Self, Vec<String>) {
        let mut talks = Talks::default();
        let mut invalid = Vec::new();
        for (key, value) in entries {
            let name = key.strip_prefix(KEY_PREFIX).map(str::to_owned);
            match (name, serde_json::from_slice::<Report>(&value)) {
                (Some(name), Ok(report)) => {
                    talks.reports.insert(name, report);
                }
                _ => invalid.push(key),
            }
        }
        (talks, invalid)
    }

    /// Checks that `report` from talk `name` may be listed.
    pub fn check(&self, name: &str, report: &Report) -> Result<(), Refusal> {
        if report.counts.len() > MAX_KINDS {
            return Err(Refusal::TooManyKinds);
        }
        if !self.reports.contains_key(name) && self.reports.len() >= MAX_TALKS {
            return Err(Refusal::Full);
        }
        Ok(())
    }

    /// Records `report` as talk `name`'s latest.
    pub fn set(&mut self, name: String, report: Report) {
        self.reports.insert(name, report);
    }

    /// Returns the message listing every talk, most reactions first.
    pub fn message(&self) -> Outgoing<'_> {
        let mut talks: Vec<TalkView<'_>> = self
            .reports
            .iter()
            .map(|(name, report)| {
                let (party, room) = name.split_once('/').unwrap_or(("", name));
                TalkView {
                    party,
                    room,
                    counts: &report.counts,
                    total: report.total(),
                }
            })
            .collect();
        talks.sort_by(|a, b| b.total.cmp(&a.total).then(a.room.cmp(b.room)));
        Outgoing::Talks { talks }
    }
}

/// Returns the storage key of talk `name`.
pub fn key_of(name: &str) -> String {
    format!("{KEY_PREFIX}{name}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(pairs: &[(&str, u64)]) -> Report {
        Report {
            counts: pairs.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect(),
        }
    }

    #[test]
    fn talks_are_listed_most_reactions_first() {
        let mut talks = Talks::default();
        talks.set("reaction/a".into(), report(&[("heart", 1)]));
        talks.set("reaction/b".into(), report(&[("heart", 2), ("clap", 3)]));
        let json = serde_json::to_value(talks.message()).expect("serializes");
        assert_eq!(json["type"], "talks");
        assert_eq!(json["talks"][0]["room"], "b");
        assert_eq!(json["talks"][0]["party"], "reaction");
        assert_eq!(json["talks"][0]["total"], 5);
        assert_eq!(json["talks"][1]["room"], "a");
    }

    #[test]
    fn stored_reports_load_and_bad_ones_are_named() {
        let good = serde_json::to_vec(&report(&[("heart", 4)])).expect("serializes");
        let entries = vec![
            (key_of("reaction/a"), good),
            (key_of("reaction/b"), b"nope".to_vec()),
        ];
        let (talks, invalid) = Talks::load(entries);
        assert_eq!(invalid, vec![key_of("reaction/b")]);
        assert_eq!(talks.reports["reaction/a"].total(), 4);
    }

    #[test]
    fn a_full_lobby_refuses_new_talks_only() {
        let mut talks = Talks::default();
        for i in 0..MAX_TALKS {
            talks.set(format!("reaction/{i}"), Report::default());
        }
        assert_eq!(
            talks.check("reaction/new", &Report::default()),
            Err(Refusal::Full)
        );
        assert_eq!(talks.check("reaction/7", &Report::default()), Ok(()));
        let kinds: Vec<(String, u64)> = (0..=MAX_KINDS).map(|i| (i.to_string(), 1)).collect();
        let wide = Report {
            counts: kinds.into_iter().collect(),
        };
        assert_eq!(talks.check("reaction/7", &wide), Err(Refusal::TooManyKinds));
    }
}
