// Validate GLB files with the Khronos glTF-Validator (npm "gltf-validator").
// Usage: node genmodels/tools/validate.mjs FILE.glb [MORE.glb ...]
// One file: prints the full validation report as JSON.
// Several files: prints one JSON line per file: {"file", "numErrors", "numWarnings", "codes"}.
// Exit code: 0 when every report has zero errors, 1 when any has errors, 2 on usage/IO failure.
import { readFile } from "node:fs/promises";
import validator from "gltf-validator";

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node validate.mjs FILE.glb [MORE.glb ...]");
  process.exit(2);
}
let failed = false;
try {
  for (const file of files) {
    const bytes = new Uint8Array(await readFile(file));
    const report = await validator.validateBytes(bytes, { uri: file, maxIssues: 100 });
    failed ||= report.issues.numErrors > 0;
    if (files.length === 1) {
      console.log(JSON.stringify(report));
    } else {
      const codes = [...new Set(report.issues.messages.filter((m) => m.severity <= 1).map((m) => m.code))];
      console.log(JSON.stringify({ file, numErrors: report.issues.numErrors, numWarnings: report.issues.numWarnings, codes }));
    }
  }
} catch (err) {
  console.error(String(err));
  process.exit(2);
}
process.exit(failed ? 1 : 0);
