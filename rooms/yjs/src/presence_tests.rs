//! Tests of the awareness table.

use super::*;

fn update(entries: &[(u64, u32, &str)]) -> AwarenessUpdate {
    let clients = entries
        .iter()
        .map(|(id, clock, json)| {
            let entry = AwarenessUpdateEntry {
                clock: *clock,
                json: (*json).into(),
            };
            (ClientID::new(*id), entry)
        })
        .collect();
    AwarenessUpdate { clients }
}

fn ids(update: &AwarenessUpdate) -> Vec<u64> {
    let mut ids: Vec<u64> = update.clients.keys().map(ClientID::get).collect();
    ids.sort_unstable();
    ids
}

#[test]
fn newer_clocks_win_and_older_ones_are_ignored() {
    let mut presence = Presence::default();
    let (accepted, owners) = presence.apply("a", update(&[(1, 1, r#"{"n":"ann"}"#)]));
    assert_eq!(ids(&accepted), [1]);
    assert_eq!(owners, ["a"]);

    let (accepted, _) = presence.apply("a", update(&[(1, 1, r#"{"n":"old"}"#)]));
    assert!(accepted.clients.is_empty());
    let (accepted, _) = presence.apply("a", update(&[(1, 2, r#"{"n":"new"}"#)]));
    assert_eq!(ids(&accepted), [1]);

    let everyone = presence.everyone();
    assert_eq!(&*everyone.clients[&ClientID::new(1)].json, r#"{"n":"new"}"#);
}

#[test]
fn a_client_that_leaves_is_forgotten() {
    let mut presence = Presence::default();
    presence.apply("a", update(&[(1, 3, "{}")]));
    let (accepted, _) = presence.apply("a", update(&[(1, 3, "null")]));
    assert_eq!(ids(&accepted), [1]);
    assert!(presence.everyone().clients.is_empty());

    // Leaving again, or leaving unknown, changes nothing.
    let (accepted, _) = presence.apply("a", update(&[(1, 4, "null"), (9, 1, "null")]));
    assert!(accepted.clients.is_empty());
}

#[test]
fn closing_a_connection_removes_its_clients_with_a_newer_clock() {
    let mut presence = Presence::default();
    presence.apply("a", update(&[(1, 5, "{}"), (2, 1, "{}")]));
    presence.apply("b", update(&[(3, 1, "{}")]));
    // b relays a's client 1 (as a query answer would): a still owns it.
    let (_, owners) = presence.apply("b", update(&[(1, 6, "{}")]));
    assert_eq!(owners, ["a"]);

    let left = presence.remove_connection("a").expect("a had clients");
    assert_eq!(ids(&left), [1, 2]);
    let entry = &left.clients[&ClientID::new(1)];
    assert_eq!((entry.clock, &*entry.json), (7, "null"));
    assert_eq!(ids(&presence.everyone()), [3]);
    assert!(presence.remove_connection("a").is_none());
}

#[test]
fn saved_clients_come_back_after_a_sleep() {
    let mut presence = Presence::default();
    presence.apply("a", update(&[(1, 2, r#"{"cursor":4}"#), (2, 8, "{}")]));
    let full = presence.saved("a", true);
    let bare = presence.saved("a", false);

    let mut woken = Presence::default();
    assert!(woken.restore("a", &full));
    assert_eq!(ids(&woken.everyone()), [1, 2]);
    let left = woken.remove_connection("a").expect("restored");
    assert_eq!(left.clients[&ClientID::new(2)].clock, 9);

    // Without states the clients are known but not shown until they renew.
    let mut woken = Presence::default();
    assert!(woken.restore("a", &bare));
    assert!(woken.everyone().clients.is_empty());
    let (accepted, _) = woken.apply("a", update(&[(1, 3, "{}")]));
    assert_eq!(ids(&accepted), [1]);
    assert_eq!(ids(&woken.everyone()), [1]);
    assert!(!woken.restore("b", b"not json"));
}
