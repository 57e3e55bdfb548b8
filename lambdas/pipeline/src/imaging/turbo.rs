//! libjpeg-turbo's handles, one of each kind a thread, kept from one image to the
//! next: making one (`tj3Init`: its compress and decompress state, memory pools
//! and tables) and freeing it cost more than a 256×256 encode's setup, and a
//! batch runs thousands of images on a few threads.
//!
//! A handle that reported an error is dropped, not kept: the next image gets a
//! fresh one, so nothing a damaged file left behind reaches another.
//!
//! Lossless transforms go through libjpeg-turbo's C API here ([`transform_many`]):
//! its `tj3Transform` takes a list of transforms and entropy-decodes the source
//! once for all of them, where the `turbojpeg` crate's `Transformer` passes one.

use std::cell::RefCell;
use std::thread::LocalKey;

use std::ffi::CStr;

use turbojpeg::{Compressor, Decompressor, TransformOp};
use turbojpeg_sys as raw;

use crate::limits::JPEG_QUALITY;

thread_local! {
    static COMPRESSOR: RefCell<Option<Compressor>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<Decompressor>> = const { RefCell::new(None) };
    static TRANSFORMER: RefCell<Option<TransformHandle>> = const { RefCell::new(None) };
}

/// The processor's encoder: quality [`JPEG_QUALITY`], 4:2:0.
fn new_compressor() -> turbojpeg::Result<Compressor> {
    let mut compressor = Compressor::new()?;
    compressor.set_quality(i32::from(JPEG_QUALITY))?;
    compressor.set_subsamp(turbojpeg::Subsamp::Sub2x2)?;
    Ok(compressor)
}

/// `work` with this thread's encoder (see [`new_compressor`]).
pub(super) fn with_compressor<T>(
    work: impl FnOnce(&mut Compressor) -> turbojpeg::Result<T>,
) -> turbojpeg::Result<T> {
    with_handle(&COMPRESSOR, new_compressor, work)
}

/// `work` with this thread's decoder; it sets the scale and limits it needs.
pub(super) fn with_decompressor<T>(
    work: impl FnOnce(&mut Decompressor) -> turbojpeg::Result<T>,
) -> turbojpeg::Result<T> {
    with_handle(&DECOMPRESSOR, Decompressor::new, work)
}

/// The lossless transforms `ops` of `jpeg` (each exact: `TJXOPT_PERFECT`, no
/// markers copied), from one entropy decode of it, with this thread's handle.
/// The same bytes as one `turbojpeg::Transformer` call each.
pub(super) fn transform_many(jpeg: &[u8], ops: &[TransformOp]) -> turbojpeg::Result<Vec<Vec<u8>>> {
    if ops.is_empty() {
        return Ok(Vec::new());
    }
    with_handle(&TRANSFORMER, TransformHandle::new, |handle| {
        handle.transform(jpeg, ops)
    })
}

/// A transform instance of libjpeg-turbo's C API, destroyed on drop.
struct TransformHandle(raw::tjhandle);

impl TransformHandle {
    #[expect(
        unsafe_code,
        reason = "libjpeg-turbo's C API: tj3Init takes no pointer and returns an owned handle or null"
    )]
    fn new() -> turbojpeg::Result<Self> {
        let handle = unsafe { raw::tj3Init(raw::TJINIT_TJINIT_TRANSFORM as _) };
        if handle.is_null() {
            return Err(turbojpeg::Error::Null);
        }
        Ok(Self(handle))
    }

    #[expect(
        unsafe_code,
        reason = "libjpeg-turbo's C API: tj3Transform reads `jpeg` (pointer and length from one slice), writes one buffer pointer and size per transform into arrays of `ops.len()`, and reads `ops.len()` transforms; the buffers it allocates are freed by `Buffers`' drop"
    )]
    fn transform(&mut self, jpeg: &[u8], ops: &[TransformOp]) -> turbojpeg::Result<Vec<Vec<u8>>> {
        let count =
            i32::try_from(ops.len()).map_err(|_| turbojpeg::Error::IntegerOverflow("ops"))?;
        let transforms: Vec<raw::tjtransform> = ops
            .iter()
            .map(|&op| raw::tjtransform {
                r: raw::tjregion {
                    x: 0,
                    y: 0,
                    w: 0,
                    h: 0,
                },
                op: op as _,
                options: (raw::TJXOPT_PERFECT | raw::TJXOPT_COPYNONE) as _,
                data: std::ptr::null_mut(),
                customFilter: None,
            })
            .collect();
        let mut out = Buffers {
            pointers: vec![std::ptr::null_mut(); ops.len()],
            sizes: vec![0; ops.len()],
        };
        let status = unsafe {
            raw::tj3Transform(
                self.0,
                jpeg.as_ptr(),
                jpeg.len() as _,
                count,
                out.pointers.as_mut_ptr(),
                out.sizes.as_mut_ptr(),
                transforms.as_ptr(),
            )
        };
        if status != 0 {
            let message = unsafe { CStr::from_ptr(raw::tj3GetErrorStr(self.0)) };
            return Err(turbojpeg::Error::TurboJpegError(
                message.to_string_lossy().into_owned(),
            ));
        }
        out.pointers
            .iter()
            .zip(&out.sizes)
            .map(|(&pointer, &size)| {
                if pointer.is_null() {
                    return Err(turbojpeg::Error::Null);
                }
                // libjpeg-turbo wrote `size` bytes at `pointer`, which it allocated.
                Ok(unsafe { std::slice::from_raw_parts(pointer, size as usize) }.to_vec())
            })
            .collect()
    }
}

impl Drop for TransformHandle {
    #[expect(unsafe_code, reason = "the handle tj3Init returned, destroyed once")]
    fn drop(&mut self) {
        unsafe { raw::tj3Destroy(self.0) };
    }
}

/// The output buffers of one `tj3Transform` call, freed however it ended.
struct Buffers {
    pointers: Vec<*mut u8>,
    sizes: Vec<raw::size_t>,
}

impl Drop for Buffers {
    #[expect(
        unsafe_code,
        reason = "each buffer libjpeg-turbo allocated, freed once"
    )]
    fn drop(&mut self) {
        for &pointer in &self.pointers {
            if !pointer.is_null() {
                unsafe { raw::tj3Free(pointer.cast()) };
            }
        }
    }
}

/// Takes the thread's handle (or makes one), runs `work`, and keeps the handle
/// for the next call only if `work` succeeded. Taken out while in use, so a
/// call from inside `work` would make its own rather than share it.
fn with_handle<H: 'static, T>(
    cell: &'static LocalKey<RefCell<Option<H>>>,
    make: fn() -> turbojpeg::Result<H>,
    work: impl FnOnce(&mut H) -> turbojpeg::Result<T>,
) -> turbojpeg::Result<T> {
    // `try_with`: a thread on its way out has no cell, and gets a fresh handle.
    let kept = cell
        .try_with(|cell| cell.borrow_mut().take())
        .ok()
        .flatten();
    let mut handle = match kept {
        Some(handle) => handle,
        None => make()?,
    };
    let result = work(&mut handle)?;
    let _ = cell.try_with(|cell| *cell.borrow_mut() = Some(handle));
    Ok(result)
}
