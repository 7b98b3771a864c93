// Drives the demo page the way people use it, in Debian's Chromium through
// playwright-core: two browser contexts (two people) open the same room,
// both click reactions, both must show the same counts and 2 people; a
// reload shows the counts kept; the room picker moves to another room.
// Saves screenshots and prints one JSON line with what the pages showed.
//
// Usage: node browser-demo.mjs <http base url> <party> <room> <screenshot dir>
// Exits non-zero with the reason on the first expectation that fails.

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const WAIT_MS = 20_000;
const [base, party, room, shotDir] = process.argv.slice(2);
if (!base || !party || !room || !shotDir) {
  console.error("usage: node browser-demo.mjs <base url> <party> <room> <screenshot dir>");
  process.exit(2);
}

// What the two people click, and so what both pages must end up showing.
const CLICKS = { a: { heart: 3, fire: 1 }, b: { heart: 2, party: 1 } };
const EXPECTED = { heart: 5, fire: 1, party: 1, clap: 0, laugh: 0, wow: 0 };
const pageErrors = [];

/** Reads every count and the people number the page shows. */
async function shown(page) {
  return page.evaluate(() => {
    const counts = {};
    for (const button of document.querySelectorAll(".reaction")) {
      counts[button.dataset.kind] = Number(button.querySelector(".count").textContent.replace(/,/g, ""));
    }
    return { counts, people: document.getElementById("people").textContent };
  });
}

/** Waits until the page is connected and shows `counts` and `people`. */
async function expectShown(page, who, counts, people) {
  try {
    await page.waitForFunction(
      ([counts, people]) => {
        if (document.documentElement.dataset.state !== "open") return false;
        if (document.getElementById("people").textContent !== String(people)) return false;
        return Object.entries(counts).every(([kind, n]) => {
          const cell = document.querySelector(`.reaction[data-kind="${kind}"] .count`);
          return cell && cell.textContent.replace(/,/g, "") === String(n);
        });
      },
      [counts, people],
      { timeout: WAIT_MS },
    );
  } catch {
    const seen = JSON.stringify(await shown(page));
    throw new Error(`${who} should show ${JSON.stringify(counts)} and ${people} people, shows ${seen}`);
  }
}

async function clickAll(page, clicks) {
  for (const [kind, times] of Object.entries(clicks)) {
    for (let i = 0; i < times; i++) await page.click(`.reaction[data-kind="${kind}"]`);
  }
}

async function open(browser, url) {
  const context = await browser.newContext({ viewport: { width: 760, height: 640 } });
  const page = await context.newPage();
  page.on("pageerror", (error) => pageErrors.push(error.message));
  await page.goto(url);
  return { context, page };
}

async function run(browser) {
  const url = `${base}/?room=${encodeURIComponent(room)}&party=${encodeURIComponent(party)}`;
  const a = await open(browser, url);
  const b = await open(browser, url);
  await expectShown(a.page, "page A", {}, 2);
  await expectShown(b.page, "page B", {}, 2);

  await Promise.all([clickAll(a.page, CLICKS.a), clickAll(b.page, CLICKS.b)]);
  await expectShown(a.page, "page A after the clicks", EXPECTED, 2);
  await expectShown(b.page, "page B after the clicks", EXPECTED, 2);

  await b.page.reload();
  await expectShown(b.page, "page B after a reload", EXPECTED, 2);
  await expectShown(a.page, "page A after B's reload", EXPECTED, 2);
  // Let the last reaction animations end, so the screenshot is the page at rest.
  await a.page.waitForTimeout(1_500);
  const screenshot = join(shotDir, "demo.png");
  await a.page.screenshot({ path: screenshot });
  const final = { a: await shown(a.page), b: await shown(b.page) };

  // One more click, caught mid-burst, to show the animation.
  await a.page.click('.reaction[data-kind="heart"]');
  await a.page.waitForTimeout(180);
  const burst = join(shotDir, "demo-burst.png");
  await a.page.screenshot({ path: burst });
  await expectShown(b.page, "page B after one more heart", { ...EXPECTED, heart: 6 }, 2);

  // B leaves: A sees the room go down to one person.
  await b.context.close();
  await expectShown(a.page, "page A after B left", { ...EXPECTED, heart: 6 }, 1);

  // The picker moves A to an empty room and puts it in the address.
  await a.page.fill("#room-input", `${room}-elsewhere`);
  await a.page.press("#room-input", "Enter");
  await expectShown(a.page, "page A in the new room", { heart: 0, fire: 0, party: 0 }, 1);
  const moved = new URL(a.page.url()).searchParams.get("room");
  if (moved !== `${room}-elsewhere`) throw new Error(`the address names room ${moved}`);

  if (pageErrors.length) throw new Error(`page script errors: ${pageErrors.join("; ")}`);
  return { final, screenshot, burst };
}

mkdirSync(shotDir, { recursive: true });
let browser;
try {
  // launch() starts Chromium on a fresh temporary profile (its own
  // --user-data-dir) and removes it on close; each context is one person.
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    chromiumSandbox: false,
    args: [
      "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync",
    ],
  });
  const result = await run(browser);
  console.log(JSON.stringify(result));
} catch (error) {
  console.error(`browser test failed: ${error.message}`);
  process.exitCode = 1;
} finally {
  await browser?.close();
}
