//! libjpeg-turbo's handles, one of each kind a thread, kept from one image to the
//! next: making one (`tj3Init`: its compress and decompress state, memory pools
//! and tables) and freeing it cost more than a 256×256 encode's setup, and a
//! batch runs thousands of images on a few threads.
//!
//! A handle that reported an error is dropped, not kept: the next image gets a
//! fresh one, so nothing a damaged file left behind reaches another.

use std::cell::RefCell;
use std::thread::LocalKey;

use turbojpeg::{Compressor, Decompressor, Transformer};

use crate::limits::JPEG_QUALITY;

thread_local! {
    static COMPRESSOR: RefCell<Option<Compressor>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<Decompressor>> = const { RefCell::new(None) };
    static TRANSFORMER: RefCell<Option<Transformer>> = const { RefCell::new(None) };
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

/// `work` with this thread's lossless transformer.
pub(super) fn with_transformer<T>(
    work: impl FnOnce(&mut Transformer) -> turbojpeg::Result<T>,
) -> turbojpeg::Result<T> {
    with_handle(&TRANSFORMER, Transformer::new, work)
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
