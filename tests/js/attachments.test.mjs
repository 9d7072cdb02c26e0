// What the composer accepts (static/js/chat/attachments.js), before anything is uploaded.
import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_FILES, checkFile, formatSize, kindOf, mediaTypeOf } from "../../src/switchboard/web/static/js/chat/attachments.js";

test("kinds by media type and by name", () => {
  assert.equal(kindOf({ name: "a.png", type: "image/png" }), "image");
  assert.equal(kindOf({ name: "r.pdf", type: "" }), "pdf");
  assert.equal(kindOf({ name: "notes.md", type: "" }), "text");
  assert.equal(kindOf({ name: "x.bin", type: "text/plain" }), "text");
  assert.equal(kindOf({ name: "data.json", type: "application/octet-stream" }), "text");
  assert.equal(kindOf({ name: "app.exe", type: "application/x-msdownload" }), null);
  assert.equal(kindOf({ name: "pic.bmp", type: "image/bmp" }), null);
});

test("sizes in words", () => {
  assert.equal(formatSize(1), "1 byte");
  assert.equal(formatSize(512), "512 bytes");
  assert.equal(formatSize(1536), "1.5 KB");
  assert.equal(formatSize(200 * 1024), "200 KB");
  assert.equal(formatSize(3.25 * 1024 * 1024), "3.3 MB");
});

test("refusals say what is wrong, in words", () => {
  assert.match(checkFile({ name: "app.exe", type: "", size: 10 }).problem, /only text files .* PDFs and images/);
  assert.match(checkFile({ name: "a.png", type: "image/png", size: 10 }).problem, /cannot read images/);
  assert.deepEqual(checkFile({ name: "a.png", type: "image/png", size: 10 }, { canSeeImages: true }), { kind: "image" });
  assert.match(checkFile({ name: "big.pdf", type: "application/pdf", size: 11 * 1024 * 1024 }).problem, /11\.0 MB: files can be at most 10 MB/);
  assert.match(checkFile({ name: "n.txt", type: "text/plain", size: 0 }).problem, /empty/);
  assert.match(checkFile({ name: "n.txt", type: "text/plain", size: 5 }, { files: MAX_FILES }).problem, /At most 8 files/);
  assert.deepEqual(checkFile({ name: "n.txt", type: "text/plain", size: 5 }), { kind: "text" });
});

test("media type sent", () => {
  assert.equal(mediaTypeOf({ type: "" }, "text"), "text/plain");
  assert.equal(mediaTypeOf({ type: "application/octet-stream" }, "pdf"), "application/pdf");
  assert.equal(mediaTypeOf({ type: "text/csv" }, "text"), "text/csv");
});
