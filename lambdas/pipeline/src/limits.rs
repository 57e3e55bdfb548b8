//! The pipeline's limits, in one place. Every rejection names the limit it hit.

/// Largest upload accepted: 10 MiB. Checked before download (from the object's
/// size) and again while reading, so a lying `Content-Length` cannot get past it.
pub const MAX_UPLOAD_BYTES: u64 = 10 * 1024 * 1024;

/// Longest side, in pixels, that the decoder will accept (either axis).
pub const MAX_SIDE_PX: u32 = 16_384;

/// Most pixels (width × height) the decoder will accept: 64 megapixels, above any
/// phone or DSLR photo; a larger header in a 10 MiB file is a decompression bomb.
pub const MAX_PIXELS: u64 = 64_000_000;

/// Most bytes one decode may hold, so that every accepted upload is processed in
/// 64 MiB of peak RSS for the whole process (with the upload itself and the
/// program). For JPEGs it is computed from the headers before any decoder runs,
/// for the decode path chosen: coefficient buffers of multi-scan files at full
/// size (2 bytes a coefficient, as libjpeg keeps them), DC coefficients only for
/// the 1/8 DC decoder, lossless sample planes, the output at its DCT scale, row
/// buffers and kept colour profiles. PNGs are decoded streaming under
/// [`MAX_PNG_DECODE_BYTES`] instead.
pub const MAX_DECODE_ALLOC_BYTES: u64 = 40 * 1024 * 1024;

/// Most scans (SOS segments) a JPEG may have. Encoders write 1 (baseline), 10
/// (libjpeg's progressive YCbCr script), 18 for CMYK, at most 60 for ten
/// components; a flood of thousands is a denial of service, since every scan is a
/// pass over the image. libjpeg-turbo's own "limit scans" flag allows 500.
pub const MAX_JPEG_SCANS: usize = 100;

/// Most blocks (8×8 samples of one component) a Huffman-coded DCT JPEG decode may
/// visit, summed over its scans: the work bound. A real 64-megapixel progressive
/// CMYK photo visits 8 million at 1/8 (two DC scans of 4 million blocks); a full
/// decode of a 2040×2040 progressive CMYK one (the largest that is not decoded at
/// 1/8) about 2 million. Huffman data costs at least a bit a block in every scan
/// that is not a refinement (checked before decoding), so the file's size bounds
/// the rest of the work too.
///
/// Only Huffman coding: arithmetic-coded JPEGs (SOF9 to SOF11) are refused
/// outright. Their decoder spends dozens of decisions a block from almost no data,
/// so neither the file's size nor a block count bounds its work: measured in
/// release (`examples/hostile_inputs.rs --measure`), a 7,100-byte 4160×4160 file of
/// 100 scans, each block's one coefficient at the last zigzag position, took 5.0 s
/// of CPU and 41 MiB in libjpeg-turbo at 1/8. No browser decodes them and no
/// camera writes them, so refusing them costs users nothing.
pub const MAX_JPEG_BLOCK_VISITS: u64 = 32_000_000;

/// Most samples a lossless JPEG (SOF3) decode may visit, summed over its scans.
/// Each component is coded in exactly one scan (as the JPEG standard says of
/// sequential and lossless frames; a repeat is refused as damaged), so this is the
/// image's samples; [`MAX_DECODE_ALLOC_BYTES`] already holds them under about 4.7
/// million (1.55 megapixels of RGB, 3.8 of grey). jpeg-decoder spends about 4 ns a
/// sample: well under a tenth of a second.
pub const MAX_JPEG_LOSSLESS_SAMPLES: u64 = 8_000_000;

/// Most bytes a PNG decode may hold: the `png` crate's row buffers (a few rows and
/// its inflate window), one 8-bit row, and the sums of the box shrink that runs as
/// rows arrive (a 64-megapixel PNG is never held at full size). Computed from the
/// header (width, bit depth, colour type, the shrink factor) before anything is
/// allocated; over it is `too_many_pixels`. For the 256 px canvas the most any PNG
/// within [`MAX_PIXELS`] and [`MAX_SIDE_PX`] needs is about 6 MiB, so no such PNG,
/// 16-bit or Adam7-interlaced ones included, is refused (measured: 1.4 MiB for a
/// 16384-wide RGBA16 one, 5 MiB for a 510² one, which is not shrunk).
pub const MAX_PNG_DECODE_BYTES: u64 = 16 * 1024 * 1024;

/// Most bytes of unpacked PNG image data (the filtered rows, a filter byte each,
/// over every Adam7 pass), computed from the header before anything is inflated:
/// the work bound of a PNG decode, since every byte is inflated and unfiltered
/// (Paeth, the costliest filter, about 1.4 ns a byte here). 256 MiB holds a
/// 64-megapixel 8-bit RGBA PNG; a 16-bit RGBA one may have up to 33 megapixels (a
/// 16384×3906 one, 512 MB of rows, took 0.7 s of CPU).
pub const MAX_PNG_IMAGE_DATA_BYTES: u64 = 256 * 1024 * 1024;

/// Most bytes of a PNG's `eXIf` chunk searched for the orientation tag (it sits in
/// the first directory, near the start). The chunk is read in place, never copied,
/// whatever its size. Colour profiles (`iCCP`) and text chunks are never inflated:
/// the pipeline uses no colour profile.
pub const MAX_PNG_EXIF_BYTES: usize = 64 * 1024;

/// Side of the square white canvas every image is fitted onto.
pub const CANVAS_SIDE_PX: u32 = 256;

/// JPEG quality of every output (processed image and rotations).
pub const JPEG_QUALITY: u8 = 90;

/// Largest pipeline output read back (a processed image or a rotation: the
/// worker, the app's thumbnails and downloads): a 256×256 JPEG at quality 90 is a
/// few tens of KiB, so anything bigger at an output key was not written by the
/// pipeline and is not decoded.
pub const MAX_OUTPUT_BYTES: u64 = 1024 * 1024;

/// CPU time one upload's processing (or one rotation) may take on the development
/// machine, asserted by the budget tests for every hostile case (user + system time
/// of a child process). Lambda at 128 MB gets about 0.072 vCPU, so a second here
/// is about 14 s there: the processor's timeout must allow it.
pub const MAX_CPU_MS: u64 = 1000;

/// Longest object key S3 accepts, in bytes of UTF-8. An upload is refused up front
/// (`name_too_long`) when its longest output key
/// (`augmented-images/<angle>-degree/<name>_<angle>.jpg`, 36 bytes more than
/// `<name>`) would be longer, so `<name>` may be at most 988 bytes.
pub const MAX_KEY_BYTES: usize = 1024;

/// Longest file-name component a local folder holds (ext4, APFS, NTFS: 255 bytes
/// or UTF-16 units). In local mode an upload is refused up front when a component
/// of any output key would be longer: the last part of `<name>` may be at most 243
/// bytes (`<last>_256x256.jpg`).
pub const MAX_FILE_NAME_BYTES: usize = 255;

/// Bytes of `<name>` kept in the failed record's key of an upload whose name is too
/// long for its outputs (`failed/<first bytes of name>~<16 hex digits>.json`, the
/// digits a hash of the whole name): short enough that the record can always be
/// written, whatever the store.
pub const FAILED_KEY_NAME_BYTES: usize = 100;

/// Longest S3 event `sequencer` accepted (S3 writes 16 to 18 hex digits); a longer
/// one is treated as absent.
pub const MAX_SEQUENCER_CHARS: usize = 64;

/// Time the rotation worker keeps back at the end of an invocation: the message
/// running then is stopped (its output is written whole or not at all) and the
/// batch's answer (`ReportBatchItemFailures`) is sent to the Lambda Runtime API
/// on loopback, which takes milliseconds; the rest covers the gap between the
/// clock the deadline was set by and the function's own. An invocation that ran
/// out instead would fail the whole batch, done messages included.
pub const WORKER_REPLY_RESERVE: std::time::Duration = std::time::Duration::from_secs(1);

/// Least time left (after [`WORKER_REPLY_RESERVE`]) for the worker to start a
/// message; with less, it and every later message of the batch are reported as
/// failures untouched, for SQS to deliver again. A message is four S3 requests
/// (get, head, put, head; about 26 ms a message measured in a batch of 5), and
/// the SDK's first retry of a throttled request waits up to a second: 2 s lets a
/// started message finish with one retry, so one slow message costs its
/// neighbours a redelivery, never a failure of their own doing.
pub const WORKER_MIN_MESSAGE_TIME: std::time::Duration = std::time::Duration::from_secs(2);

/// Longest provenance value (pipeline version, parameters) an output's metadata
/// or a rotation task may carry, in bytes of printable ASCII: this pipeline writes
/// about 70; S3 allows 2 KiB of user metadata in all, and the source key takes up
/// to 1,024 of it.
pub const MAX_PROVENANCE_VALUE_BYTES: usize = 128;

/// Largest `failed/<name>.json` a client reads back: the pipeline writes a few
/// hundred bytes, so a bigger one is not read.
pub const MAX_FAILED_RECORD_BYTES: u64 = 64 * 1024;

/// Largest queue journal the desktop app reads at start (a larger one is set
/// aside as `queue.jsonl.bad`): about a million rows, far beyond any queue a
/// person makes.
pub const MAX_JOURNAL_BYTES: u64 = 256 * 1024 * 1024;

/// Transfers a client starts with when no `--jobs` (or app setting) is given:
/// enough requests in flight to fill a 50–150 ms round trip with photo-sized
/// files (measured: 300 × 123 KB at 50 ms, 4 at once 9 files/s, 16 at once 36).
pub const START_TRANSFER_JOBS: usize = 16;

/// Most transfers a client runs at once, chosen or given: the adaptive limit grows
/// by one per round of clean transfers up to this, and halves on a throttle or a
/// retried fault (S3 allows 3,500 writes a second per prefix; a laptop's uplink
/// is full long before 64 photos are in flight).
pub const MAX_TRANSFER_JOBS: usize = 64;
