// A download sink that looks at the first bytes: a .kiln bundle (by its magic, never by the URL's
// extension) is handed to a KilnStreamReader chunk by chunk, so its header is checked and each
// section verified while the rest is still downloading; anything else is buffered as usual.
import type { KilnStreamReader } from '../format/kiln/kiln-reader.ts';
import { KILN_MAGIC, hasKilnMagic } from '../format/kiln/kiln-layout.ts';
import { bufferSink, type DownloadSink } from './fetch-model.ts';

/**
 * `startKiln` may load the reader on demand (a lazy part of the browser builds); `onOther` is told as
 * soon as the first bytes show another format, so its reader can load while the rest downloads.
 */
export function sniffingSink(total: number, startKiln: () => Promise<KilnStreamReader>, onOther?: () => void): DownloadSink {
  const plain = bufferSink(total);
  let head = new Uint8Array(0);
  let kiln: KilnStreamReader | undefined;
  let decided = false;
  return {
    async write(chunk) {
      if (kiln) return kiln.write(chunk);
      if (decided) return plain.write(chunk);
      // The magic may arrive split over chunks: hold the first few bytes until it can be judged.
      const joined = new Uint8Array(head.length + chunk.length);
      joined.set(head);
      joined.set(chunk, head.length);
      if (joined.length < KILN_MAGIC.length) {
        head = joined;
        return;
      }
      decided = true;
      if (hasKilnMagic(joined)) {
        const reader = await startKiln();
        kiln = reader;
        return reader.write(joined);
      }
      onOther?.();
      return plain.write(joined);
    },
    bytes: () => (kiln ? kiln.bytes : decided ? plain.bytes() : head),
  };
}
