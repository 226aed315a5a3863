// A download sink that looks at the first bytes: a .kiln bundle (by its magic, never by the URL's
// extension) is handed to a KilnStreamReader chunk by chunk, so its header is checked and each
// section verified while the rest is still downloading; anything else goes to the sink `startOther`
// gives (the ONNX stream reader), or is buffered as usual.
import type { KilnStreamReader } from '../format/kiln/kiln-reader.ts';
import { KILN_MAGIC, hasKilnMagic } from '../format/kiln/kiln-layout.ts';
import { bufferSink, type DownloadSink } from './fetch-model.ts';

/**
 * `startKiln` may load the reader on demand (a lazy part of the browser builds); `startOther` is
 * called as soon as the first bytes show another format (it may load its reader meanwhile); when it
 * gives no sink or fails, the bytes are buffered.
 */
export function sniffingSink(total: number, startKiln: () => Promise<KilnStreamReader>, startOther?: () => Promise<DownloadSink | undefined>): DownloadSink {
  let plain: DownloadSink | undefined;
  let head = new Uint8Array(0);
  let kiln: KilnStreamReader | undefined;
  return {
    async write(chunk) {
      if (kiln) return kiln.write(chunk);
      if (plain) return plain.write(chunk);
      // The magic may arrive split over chunks: hold the first few bytes until it can be judged.
      const joined = new Uint8Array(head.length + chunk.length);
      joined.set(head);
      joined.set(chunk, head.length);
      if (joined.length < KILN_MAGIC.length) {
        head = joined;
        return;
      }
      if (hasKilnMagic(joined)) {
        const reader = await startKiln();
        kiln = reader;
        return reader.write(joined);
      }
      const other = (await startOther?.().catch(() => undefined)) ?? bufferSink(total);
      plain = other;
      return other.write(joined);
    },
    bytes: () => (kiln ? kiln.bytes : plain ? plain.bytes() : head),
  };
}
