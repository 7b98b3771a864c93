"""Unit tests of the Python SDK and of rooms/reaction-py's pure logic, on
plain CPython with fake bindings (the end-to-end tests build and run the
real component in the host: tests/integration/reaction.rs).

Run: `python -m unittest discover -s guest-sdk/python/tests`.
"""

import sys
import types
import unittest
from pathlib import Path

import fake_bindings
from fake_bindings import HOST, Err

fake_bindings.install()
ROOT = Path(__file__).resolve().parents[3]
sys.path[:0] = [str(ROOT / "guest-sdk/python"), str(ROOT / "rooms/reaction-py")]

import partyhost  # noqa: E402
from partyhost import log as plog  # noqa: E402
from partyhost.world import find_server, world_for  # noqa: E402
from wit_world.imports import types as wit  # noqa: E402

import presence  # noqa: E402


class Echo(partyhost.Server):
    def on_message(self, message, sender):
        if message == "boom":
            raise ValueError("bad input")
        self.room.broadcast(message, without=[sender])

    def on_close(self, conn):
        self.room.broadcast(f"{conn.id} left")

    @staticmethod
    def on_before_connect(req, lobby):
        if req.query.get("token") != "ok":
            return partyhost.Response("no", status=401)
        return {"X-User": "ann"}


class SdkTest(unittest.TestCase):
    def setUp(self):
        HOST.reset()
        HOST.conns = {"a": ["/x?_pk=a", [], None], "b": ["/x", [], None]}
        self.world = world_for(Echo)()
        self.addCleanup(setattr, sys, "stdout", sys.stdout)
        self.addCleanup(setattr, sys, "stderr", sys.stderr)
        plog._installed = False

    def test_storage_round_trips_json_and_reports_limits(self):
        storage = partyhost.Storage()
        storage.put("k", {"n": [1, "é"]})
        self.assertEqual(HOST.kv["k"], '{"n":[1,"é"]}'.encode())
        self.assertEqual(storage.get("k"), {"n": [1, "é"]})
        self.assertEqual(storage.get("missing", 7), 7)
        storage.put_many({"a:1": 1, "a:2": 2})
        self.assertEqual(storage.list(prefix="a:"), {"a:1": 1, "a:2": 2})
        self.assertEqual(list(storage.list(prefix="a:", reverse=True)), ["a:2", "a:1"])
        self.assertTrue(storage.delete("k"))
        self.assertFalse(storage.delete("k"))
        with self.assertRaises(partyhost.StorageError) as caught:
            storage.put("big", "x" * 2000)
        self.assertEqual((caught.exception.kind, caught.exception.limit), ("value-too-large", 1000))
        HOST.kv["raw"] = b"\xff"
        with self.assertRaisesRegex(ValueError, "'raw' is not JSON"):
            storage.get("raw")
        self.assertEqual(storage.raw.get("raw"), b"\xff")
        with self.assertRaises(partyhost.StorageError):
            storage.set_alarm(-1)

    def test_a_message_hook_broadcasts_and_an_exception_is_its_error(self):
        self.world.on_message("a", wit.Message_Text("hi"))
        self.assertEqual(HOST.sent, [("b", "hi")])
        with self.assertRaises(Err) as caught:
            self.world.on_message("a", wit.Message_Text("boom"))
        self.assertIn("ValueError: bad input", caught.exception.value)
        self.assertIn("Traceback", caught.exception.value)

    def test_on_close_may_take_only_the_connection(self):
        self.world.on_close("a", 1000, "", True)
        self.assertEqual(HOST.sent, [("a", "a left"), ("b", "a left")])

    def test_before_connect_allows_with_headers_or_rejects(self):
        allowed = self.world.on_before_connect(wit.HttpRequest("GET", "/x?token=ok", [], b""))
        self.assertEqual(allowed, wit.Admission_Allow([("x-user", "ann")]))
        rejected = self.world.on_before_connect(wit.HttpRequest("GET", "/x", [], b""))
        self.assertEqual(rejected.value.status, 401)

    def test_the_default_request_hook_answers_404_and_bad_answers_fail(self):
        answer = self.world.on_request(wit.HttpRequest("GET", "/", [], b""))
        self.assertEqual(answer.status, 404)

        class Bad(partyhost.Server):
            def on_request(self, req):
                return "not a response"

        with self.assertRaises(Err) as caught:
            world_for(Bad)().on_request(wit.HttpRequest("GET", "/", [], b""))
        self.assertIn("must return a partyhost.Response, not str", caught.exception.value)

    def test_connection_state_tags_and_errors(self):
        room = partyhost.Room()
        conn = room.get_connection("a")
        self.assertIsNone(conn.state)
        conn.set_state({"n": 1})
        self.assertEqual(conn.set_state(lambda s: {"n": s["n"] + 1}), {"n": 2})
        self.assertEqual(room.get_connection("a").state, {"n": 2})
        conn.set_tags(["red"])
        self.assertEqual([c.id for c in room.get_connections("red")], ["a"])
        with self.assertRaises(partyhost.RoomError) as caught:
            partyhost.Connection("gone").send("x")
        self.assertEqual(caught.exception.kind, "unknown-connection")
        with self.assertRaises(TypeError):
            conn.send(3)
        self.assertEqual((room.id, room.name, room.env), ("r1", "p", {"GREETING": "hi"}))

    def test_http_helpers(self):
        response = partyhost.Response.json({"a": "é"}, status=201, headers={"X-A": "1"})
        self.assertEqual(response.body, '{"a":"é"}'.encode())
        self.assertEqual(response.headers, [("x-a", "1"), ("content-type", "application/json")])
        text = partyhost.Response("hi", headers={"content-type": "text/html"})
        self.assertEqual(text.headers, [("content-type", "text/html")])
        request = partyhost.Request("post", "/p/r?a=1&b=x%20y", [("X-K", "v")], "{}")
        self.assertEqual((request.method, request.path), ("POST", "/p/r"))
        self.assertEqual(request.query, {"a": "1", "b": "x y"})
        self.assertEqual((request.headers["x-k"], request.json()), ("v", {}))

    def test_print_and_logging_reach_the_log_import_after_the_first_hook(self):
        class Loud(partyhost.Server):
            def on_start(self):
                print("hello", end="")
                print(" world")
                print("part", end="")
                import logging
                logging.getLogger("room").warning("careful")

        world_for(Loud)().on_start()
        self.assertEqual(
            HOST.logs,
            [("INFO", "hello world"), ("WARN", "room: careful"), ("INFO", "part")],
        )

    def test_find_server_wants_exactly_one_subclass(self):
        module = types.ModuleType("app")
        with self.assertRaisesRegex(TypeError, "found none"):
            find_server(module)
        for name in ("A", "B"):
            setattr(module, name, type(name, (partyhost.Server,), {"__module__": "app"}))
        with self.assertRaisesRegex(TypeError, "found A, B"):
            find_server(module)
        self.assertIs(find_server(module, "B"), module.B)


class PresenceTest(unittest.TestCase):
    def test_a_fresh_instance_learns_the_tally_once(self):
        tally = presence.Presence()
        tally.joined("c", lambda: ["a", "b", "c"])
        unused = lambda: self.fail("the tally is known")  # noqa: E731
        self.assertEqual(tally.people(unused), 3)
        tally.joined("a", unused)
        tally.left("a", unused)
        self.assertEqual(tally.people(unused), 3)
        tally.left("a", unused)
        self.assertEqual(tally.people(unused), 2)

    def test_large_rooms_announce_at_most_once_per_window(self):
        tally, big = presence.Presence(), presence.SMALL_ROOM + 1
        self.assertEqual(tally.announce(presence.SMALL_ROOM, 5), presence.NOW)
        tally.broadcast_at(1000)
        end = 1000 + presence.COALESCE_MS
        self.assertEqual(tally.announce(big, 1010), end)
        self.assertEqual(tally.announce(big, 1020), presence.SCHEDULED)
        tally.alarm_done()
        self.assertEqual(tally.announce(big, end), presence.NOW)


if __name__ == "__main__":
    unittest.main()
