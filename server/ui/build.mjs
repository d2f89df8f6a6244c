// Builds the UI's assets into skiff_server/ui/static/dist: uPlot (from node_modules) and
// our own sources, concatenated into one script and one stylesheet. No bundler is needed.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "skiff_server", "ui", "static", "dist");
const uplot = join(here, "node_modules", "uplot", "dist");
const read = (path) => readFileSync(path, "utf8");

const script = [
  `/* uPlot ${JSON.parse(read(join(here, "node_modules", "uplot", "package.json"))).version}` +
    " (MIT, https://github.com/leeoniya/uPlot) */",
  read(join(uplot, "uPlot.iife.min.js")),
  read(join(here, "src", "charts.js")),
  read(join(here, "src", "app.js")),
].join("\n;\n");
const style = [read(join(uplot, "uPlot.min.css")), read(join(here, "src", "style.css"))].join("\n");

mkdirSync(out, { recursive: true });
writeFileSync(join(out, "skiff.js"), script);
writeFileSync(join(out, "skiff.css"), style);
const digest = createHash("sha256").update(script).update(style).digest("hex").slice(0, 16);
writeFileSync(join(out, "BUILD"), digest + "\n");
console.log(`skiff ui: wrote ${out} (script ${script.length} bytes, css ${style.length} bytes)`);
