// Writes dist/SOURCES: the SHA-256 of the bundle's sources, so that a Go
// test (web_test.go) can tell when dist/ is stale. The same digest is
// computed there: for each file, sorted by path, "path\n" + its SHA-256 in
// hex + "\n", hashed together.
import { createHash } from "node:crypto";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";

const files = ["package.json", "package-lock.json", "hash.mjs"];
for (const f of readdirSync("src").sort()) files.push("src/" + f);
files.sort();
const all = createHash("sha256");
for (const f of files) {
  all.update(f + "\n" + createHash("sha256").update(readFileSync(f)).digest("hex") + "\n");
}
writeFileSync("dist/SOURCES", all.digest("hex") + "\n");
