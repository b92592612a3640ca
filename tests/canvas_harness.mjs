// Runs tutorial_widgets.js (the drawing board's canvas) under Node with a stand-in for the few browser
// objects it touches, plays the pointer events given as JSON in argv[3], and prints as JSON what the
// widget did: the lines it drew and the ink it sent to Python. Used by tests/test_drawing_board.py.
import { pathToFileURL } from "node:url";

const [script, events] = [process.argv[2], JSON.parse(process.argv[3])];
const log = {lines: [], sent: []};

function element(tag) {
  const listeners = {};
  const node = {
    tag, listeners, width: 0, height: 0,
    addEventListener: (type, handler) => { (listeners[type] ??= []).push(handler); },
    setPointerCapture() {},
    getBoundingClientRect: () => ({left: 0, top: 0, width: node.width, height: node.height}),
    getContext: () => context,
  };
  return node;
}
const alpha = new Uint8ClampedArray(280 * 280 * 4);
let from = null;
const context = {
  beginPath() {}, stroke() {},
  moveTo(x, y) { from = [x, y]; },
  lineTo(x, y) { log.lines.push([...from, x, y]); alpha[4 * (Math.floor(y) * 280 + Math.floor(x)) + 3] = 255; },
  getImageData: () => ({data: alpha}),
  clearRect() { alpha.fill(0); },
};
globalThis.document = {createElement: element};

const values = {ink: []}, handlers = {};
const model = {
  get: (name) => values[name],
  set: (name, value) => { values[name] = value; },
  save_changes: () => log.sent.push(values.ink.reduce((total, v) => total + v, 0)),
  on: (event, handler) => { handlers[event] = handler; },
  off() {},
};
const el = {children: [], append(...nodes) { el.children.push(...nodes); }};
(await import(pathToFileURL(script))).default.render({model, el});
const [canvas] = el.children;
for (const [type, x, y] of events)
  for (const handler of canvas.listeners[type] ?? []) handler({clientX: x, clientY: y, pointerId: 1});
setTimeout(() => console.log(JSON.stringify(log)), 250);   // after any update the widget has scheduled
