import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OutputTail } from '../../src/remote/output-tail.ts';

function tailOf(chunks: string[], capBytes: number) {
  const tail = new OutputTail(capBytes);
  for (const chunk of chunks) tail.push(Buffer.from(chunk));
  return tail.result();
}

test('output within the cap is kept whole', () => {
  assert.deepEqual(tailOf(['ab', 'c\nde'], 6), { text: 'abc\nde', droppedBytes: 0 });
  assert.deepEqual(tailOf([], 6), { text: '', droppedBytes: 0 });
  // One byte over: the line the cap cut goes whole.
  assert.deepEqual(tailOf(['ab', 'c\nde'], 5), { text: 'de', droppedBytes: 4 });
});

test('past the cap, the last whole lines within it are kept and the rest counted', () => {
  const lines = Array.from({ length: 100 }, (_, i) => `line ${String(i).padStart(3, '0')}\n`); // 9 bytes each
  // In chunks of 7 bytes, cutting lines anywhere.
  const chunks = lines.join('').match(/[\s\S]{1,7}/g)!;
  const kept = tailOf(chunks, 40);
  assert.equal(kept.text, lines.slice(-4).join(''));
  assert.equal(kept.droppedBytes, 900 - 36);
  // A cap that ends exactly on a line start keeps that line.
  assert.equal(tailOf(chunks, 36).text, lines.slice(-4).join(''));
  // One chunk larger than the cap.
  assert.deepEqual(tailOf([lines.join('')], 20), { text: lines.slice(-2).join(''), droppedBytes: 900 - 18 });
});

test('a tail without a newline keeps its last bytes', () => {
  assert.deepEqual(tailOf(['x'.repeat(50), 'yyyy'], 10), { text: `${'x'.repeat(6)}yyyy`, droppedBytes: 44 });
});
