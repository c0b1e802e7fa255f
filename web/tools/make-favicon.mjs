// make-favicon.mjs writes worker/public/favicon.ico: a 32×32 32-bit ICO (one
// BMP image) of a speech bubble in the page's accent colour. No dependency;
// run it again after changing the drawing:
//
//   node web/tools/make-favicon.mjs
import { writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const N = 32;
const ACCENT = [0x24, 0x57, 0xc5]; // --accent in chat.css
const WHITE = [0xff, 0xff, 0xff];

// pixel answers [r, g, b, a] at (x, y), y = 0 at the top, sampled 4×4 for
// smooth edges.
function inside(x, y) {
  // A rounded rectangle (the bubble) with a tail at the bottom left.
  const [l, t, r, b, rad] = [2, 3, 30, 24, 6];
  const cx = Math.min(Math.max(x, l + rad), r - rad);
  const cy = Math.min(Math.max(y, t + rad), b - rad);
  if (x >= l && x <= r && y >= t && y <= b && (x - cx) ** 2 + (y - cy) ** 2 <= rad * rad) return "bubble";
  // The tail: a triangle (7,23) (15,23) (6,30).
  const s = (ax, ay, bx, by) => (x - bx) * (ay - by) - (ax - bx) * (y - by);
  const d1 = s(7, 23, 15, 23), d2 = s(15, 23, 6, 30), d3 = s(6, 30, 7, 23);
  if (!((d1 < 0 || d2 < 0 || d3 < 0) && (d1 > 0 || d2 > 0 || d3 > 0))) return "bubble";
  return null;
}
function dot(x, y) {
  return [10, 16, 22].some((cx) => (x - cx) ** 2 + (y - 13.5) ** 2 <= 2.6 ** 2);
}
function pixel(px, py) {
  let cover = 0, white = 0;
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      const x = px + (i + 0.5) / 4, y = py + (j + 0.5) / 4;
      if (inside(x, y)) { cover++; if (dot(x, y)) white++; }
    }
  }
  if (!cover) return [0, 0, 0, 0];
  const f = white / cover;
  const rgb = ACCENT.map((c, k) => Math.round(c * (1 - f) + WHITE[k] * f));
  return [...rgb, Math.round((255 * cover) / 16)];
}

const xor = Buffer.alloc(N * N * 4);
for (let y = 0; y < N; y++) {
  const row = N - 1 - y; // BMP rows go bottom-up
  for (let x = 0; x < N; x++) {
    const [r, g, b, a] = pixel(x, y);
    xor.set([b, g, r, a], (row * N + x) * 4);
  }
}
const and = Buffer.alloc(N * 4); // 1 bit per pixel, rows padded to 4 bytes; alpha rules
const dib = Buffer.alloc(40);
dib.writeUInt32LE(40, 0); // BITMAPINFOHEADER
dib.writeInt32LE(N, 4);
dib.writeInt32LE(N * 2, 8); // XOR and AND masks
dib.writeUInt16LE(1, 12);
dib.writeUInt16LE(32, 14);
dib.writeUInt32LE(0, 16); // BI_RGB
dib.writeUInt32LE(xor.length + and.length, 20);
const image = Buffer.concat([dib, xor, and]);

const head = Buffer.alloc(6 + 16);
head.writeUInt16LE(0, 0);
head.writeUInt16LE(1, 2); // icon
head.writeUInt16LE(1, 4); // one image
head.writeUInt8(N, 6);
head.writeUInt8(N, 7);
head.writeUInt8(0, 8); // no palette
head.writeUInt16LE(1, 10); // planes
head.writeUInt16LE(32, 12); // bits per pixel
head.writeUInt32LE(image.length, 14);
head.writeUInt32LE(22, 18); // offset
const out = path.join(ROOT, "worker/public/favicon.ico");
writeFileSync(out, Buffer.concat([head, image]));
console.log(`wrote ${out}`);
