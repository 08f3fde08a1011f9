// Builds plotly.js with only the trace types Triage draws, as one minified script that defines
// `window.Plotly`. The app serves it in place of the full plotly.min.js (app.py): about a third
// of the size, so the browser parses and compiles less on every page with a chart.
// Run through ../build-plotly-bundle; the output is committed, nothing is built at run time.
'use strict';
const fs = require('fs');
const path = require('path');
const esbuild = require('esbuild');
const InlineCSSPlugin = require('esbuild-plugin-inline-css');
const { environmentPlugin } = require('esbuild-plugin-environment');

// scatter is part of plotly.js's core; the others are registered. A chart of another type would
// draw nothing, so tests/app/test_plotly_bundle.py checks every type the layouts use is here.
const TRACES = ['scatter', 'bar', 'heatmap', 'sankey'];
const out = process.argv[2];
const version = require('plotly.js/package.json').version;
const entry = path.join(__dirname, 'entry.generated.js');
fs.writeFileSync(
  entry,
  "'use strict';\nvar Plotly = require('plotly.js/lib/core');\nPlotly.register([" +
    TRACES.filter((t) => t !== 'scatter').map((t) => `require('plotly.js/lib/${t}')`).join(', ') +
    ']);\nmodule.exports = Plotly;\n'
);
esbuild
  .build({
    entryPoints: [entry],
    outfile: out,
    format: 'iife',
    globalName: 'Plotly',
    bundle: true,
    minify: true,
    legalComments: 'none',
    banner: {
      js: `/*! plotly.js ${version} (MIT, Plotly, Inc.; see plotly.LICENSE), Triage bundle; traces: ${TRACES.join(', ')} */`,
    },
    plugins: [InlineCSSPlugin(), environmentPlugin({ NODE_DEBUG: false })],
    alias: { stream: 'stream-browserify' },
    define: { global: 'window', 'define.amd': 'false' },
    target: 'es2016',
    logLevel: 'info',
  })
  .finally(() => fs.rmSync(entry, { force: true }))
  .catch(() => process.exit(1));
