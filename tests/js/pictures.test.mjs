// Pictures in messages (static/js/chat/pictures.js): where a stored picture is read from.
import { test } from "node:test";
import assert from "node:assert/strict";
import { pictureSrc } from "../../src/switchboard/web/static/js/chat/pictures.js";

test("a picture kept in the file store is read from the server by its sha256 only", () => {
  const sha = "a".repeat(64);
  assert.equal(pictureSrc({ type: "image", file: { sha256: sha } }), `/api/files/${sha}`);
  assert.equal(pictureSrc({ type: "image", file: { sha256: "../../etc/passwd" } }), null);
  assert.equal(pictureSrc({ type: "image", media_type: "image/png", data: "AAA" }), "data:image/png;base64,AAA");
  assert.equal(pictureSrc({ type: "image", url: "javascript:alert(1)" }), null);
});
