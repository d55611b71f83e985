// Reads a JSON array of PromQL expressions on stdin, parses each with Prometheus's own grammar
// (@prometheus-io/lezer-promql, the parser of Prometheus's UI) and prints a JSON array with the
// number of syntax errors in each. Used by tests/test_monitoring.py.
const { parser } = require("@prometheus-io/lezer-promql");

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const counts = JSON.parse(input).map((expr) => {
    let errors = 0;
    parser.parse(expr).iterate({ enter: (node) => { if (node.type.isError) errors += 1; } });
    return errors;
  });
  process.stdout.write(JSON.stringify(counts));
});
