//! What a JPEG's frame and scan headers say once read: the coding, the
//! components and their sampling, each scan's components and bands; the sizes
//! every budget and decoder derives from them. Read by [`super::jpeg_header`],
//! checked by [`super::jpeg_rules`].

/// How the frame is coded (its SOF marker).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Coding {
    /// SOF0 / SOF1: one or more sequential DCT scans.
    Sequential,
    /// SOF2: progressive DCT.
    Progressive,
    /// SOF3: lossless (predictive, no DCT).
    Lossless,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Component {
    pub id: u8,
    /// Sampling factors, 1..=4.
    pub h: u8,
    pub v: u8,
    /// Quantisation table selector, 0..=3.
    pub tq: u8,
}

/// One scan header (SOS): which components, which coefficients, which bits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Scan {
    /// Indices into [`Frame::components`], with each one's (DC, AC) table selectors.
    pub components: Vec<(usize, u8, u8)>,
    pub ss: u8,
    pub se: u8,
    pub ah: u8,
    pub al: u8,
    /// Bytes of entropy-coded data after the header (restart markers included).
    pub data_len: usize,
    /// Restart markers (`RSTn`) in that data.
    pub restart_markers: usize,
}

impl Scan {
    /// Bytes of entropy-coded data, restart markers (two bytes each) left out: a
    /// scan of nothing but markers holds no block.
    pub fn entropy_bytes(&self) -> usize {
        self.data_len.saturating_sub(2 * self.restart_markers)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Frame {
    /// The frame marker's code (`0xC0` baseline, `0xC1`, `0xC2`, `0xC3`).
    pub marker: u8,
    pub coding: Coding,
    pub precision: u8,
    pub width: u32,
    pub height: u32,
    pub components: Vec<Component>,
}

impl Frame {
    pub fn max_h(&self) -> u32 {
        self.components
            .iter()
            .map(|c| u32::from(c.h))
            .max()
            .unwrap_or(1)
    }

    pub fn max_v(&self) -> u32 {
        self.components
            .iter()
            .map(|c| u32::from(c.v))
            .max()
            .unwrap_or(1)
    }

    /// MCUs across and down in an interleaved scan.
    pub fn mcus(&self) -> (u32, u32) {
        (
            self.width.div_ceil(8 * self.max_h()),
            self.height.div_ceil(8 * self.max_v()),
        )
    }

    /// A component's blocks across and down, padded to whole MCUs (as libjpeg
    /// allocates its coefficient buffers, and as interleaved scans code them).
    pub fn padded_blocks(&self, component: &Component) -> (u32, u32) {
        let (mx, my) = self.mcus();
        (mx * u32::from(component.h), my * u32::from(component.v))
    }

    /// A component's blocks across and down, unpadded (as a non-interleaved scan
    /// codes them).
    pub fn blocks(&self, component: &Component) -> (u32, u32) {
        let w = (u64::from(self.width) * u64::from(component.h)).div_ceil(u64::from(self.max_h()));
        let h = (u64::from(self.height) * u64::from(component.v)).div_ceil(u64::from(self.max_v()));
        // At most 16,384 × 4 / 1 samples a side: fits.
        ((w as u32).div_ceil(8), (h as u32).div_ceil(8))
    }

    /// A component's samples, unpadded (a lossless scan codes one at a time).
    pub fn samples(&self, component: &Component) -> u64 {
        let w = (u64::from(self.width) * u64::from(component.h)).div_ceil(u64::from(self.max_h()));
        let h = (u64::from(self.height) * u64::from(component.v)).div_ceil(u64::from(self.max_v()));
        w * h
    }

    /// Blocks of every component, padded to whole MCUs.
    pub fn total_blocks(&self) -> u64 {
        self.components
            .iter()
            .map(|c| {
                let (w, h) = self.padded_blocks(c);
                u64::from(w) * u64::from(h)
            })
            .sum()
    }
}
