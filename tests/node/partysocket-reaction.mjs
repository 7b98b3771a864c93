// Connects to a partyhost with the unmodified `partysocket` client, reacts
// once, and exits 0 when the counts it sees include that reaction.
// Usage: node partysocket-reaction.mjs <host:port> <room>
import PartySocket from "partysocket";
import WebSocket from "ws";

const [host, room] = process.argv.slice(2);
const fail = (why) => {
  console.error(`partysocket test failed: ${why}`);
  process.exit(1);
};
setTimeout(() => fail("timed out"), 15000).unref();

const socket = new PartySocket({ host, party: "reaction", room, WebSocket });
let reacted = false;
socket.addEventListener("message", (event) => {
  const message = JSON.parse(event.data);
  if (message.type !== "counts") return fail(`unexpected message ${event.data}`);
  if (!reacted) {
    reacted = true;
    socket.send(JSON.stringify({ type: "reaction", kind: "heart" }));
    return;
  }
  if (message.counts.heart >= 1) {
    console.log(`partysocket ${socket.id} saw counts ${JSON.stringify(message.counts)}`);
    socket.close();
    process.exit(0);
  }
});
socket.addEventListener("error", (event) => fail(`socket error ${event.message ?? ""}`));
