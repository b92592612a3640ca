// The drawing board's canvas (tutorial_widgets.py, DigitCanvas), run in the browser by anywidget.
// The drawing happens here; only the ink goes to Python, as N × N values in 0..255, row by row
// ([] when cleared), at most ten times a second while a stroke is drawn and once when it ends.
const SIZE = 280, SCALE = 2, N = SIZE / SCALE;   // drawn at 280 px, sent as 140 × 140 averaged pixels
const UPDATE_MS = 100;

export default {
  render({ model, el }) {
    const canvas = Object.assign(document.createElement("canvas"), {width: SIZE, height: SIZE});
    canvas.className = "digit-canvas";
    const clear = Object.assign(document.createElement("button"), {textContent: "Clear"});
    clear.className = "digit-clear jupyter-button widget-button";   // styled like the other widgets' buttons
    el.append(canvas, clear);
    const context = canvas.getContext("2d", {willReadFrequently: true});
    Object.assign(context, {lineWidth: 22, lineCap: "round", lineJoin: "round", strokeStyle: "black"});
    let last = null, pending = null;   // the stroke's last point; the timer of the next update

    function send() {                  // the alpha channel is the ink; average it over SCALE × SCALE blocks
      clearTimeout(pending);
      pending = null;
      const rgba = context.getImageData(0, 0, SIZE, SIZE).data;
      const ink = new Array(N * N).fill(0);
      for (let y = 0; y < SIZE; y++)
        for (let x = 0; x < SIZE; x++)
          ink[Math.floor(y / SCALE) * N + Math.floor(x / SCALE)] += rgba[4 * (y * SIZE + x) + 3];
      model.set("ink", ink.map((total) => Math.round(total / (SCALE * SCALE))));
      model.save_changes();
    }
    function position(event) {
      const box = canvas.getBoundingClientRect();
      return [(event.clientX - box.left) * SIZE / box.width, (event.clientY - box.top) * SIZE / box.height];
    }
    function draw(event) {
      const point = position(event);
      context.beginPath();
      context.moveTo(...last);
      context.lineTo(...point);
      context.stroke();
      last = point;
      pending ??= setTimeout(send, UPDATE_MS);
    }
    function endStroke() {             // the pointer was lifted, or the browser took it away
      if (last === null) return;
      last = null;
      send();
    }
    function wipe() {                  // when the ink is cleared, here or from Python
      if (model.get("ink").length > 0) return;
      clearTimeout(pending);
      pending = null;
      last = null;
      context.clearRect(0, 0, SIZE, SIZE);
    }

    canvas.addEventListener("pointerdown", (event) => {
      canvas.setPointerCapture(event.pointerId);
      last = position(event);
      draw(event);
    });
    canvas.addEventListener("pointermove", (event) => { if (last) draw(event); });
    canvas.addEventListener("pointerup", endStroke);
    canvas.addEventListener("pointercancel", endStroke);
    clear.addEventListener("click", () => {
      model.set("ink", []);
      model.save_changes();
      wipe();
    });
    model.on("change:ink", wipe);
    return () => model.off("change:ink", wipe);
  }
};
