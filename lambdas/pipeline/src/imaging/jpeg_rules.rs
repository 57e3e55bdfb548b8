//! What a JPEG's headers must say before any decoder runs, beyond their syntax:
//! every coefficient sent, in the standard's order (a component once in sequential
//! and lossless frames, progressive scans each the next bit), and scan data
//! enough for the blocks it claims. Each rule refuses, from the headers alone, a
//! file that would otherwise cost a decoder passes or made-up rows.

use super::jpeg_frame::{Coding, Frame, Scan};
use crate::reject::{Claimed, Rejection};

/// Every component must get all 64 coefficients (sequential and lossless scans
/// send them all; progressive first scans, `Ah = 0`, send a band each), and a
/// sequential or lossless component comes in exactly one scan (the standard's
/// rule; a repeat would be a whole pass more for the decoder).
pub(super) fn check_coverage(frame: &Frame, scans: &[Scan]) -> Result<(), Rejection> {
    let mut sent = vec![0_u64; frame.components.len()];
    for scan in scans {
        if frame.coding != Coding::Progressive
            && scan
                .components
                .iter()
                .any(|&(index, _, _)| sent[index] != 0)
        {
            return Err(Rejection::corrupt(
                Claimed::Jpeg,
                "a JPEG component coded in two sequential scans",
            ));
        }
        let band = if frame.coding == Coding::Progressive {
            if scan.ah != 0 {
                0
            } else {
                (u64::MAX >> (63 - scan.se)) & (u64::MAX << scan.ss)
            }
        } else {
            u64::MAX
        };
        for &(index, _, _) in &scan.components {
            sent[index] |= band;
        }
    }
    if sent.iter().all(|&s| s == u64::MAX) {
        return Ok(());
    }
    Err(Rejection::corrupt(
        Claimed::Jpeg,
        if frame.coding == Coding::Progressive {
            "the JPEG ends before all of its progressive scans"
        } else {
            "the JPEG ends before all of its scans"
        },
    ))
}

/// A progressive frame's scans in the order the standard gives them (libjpeg warns
/// of any other, and a warning fails the decode, but only once every scan has cost
/// its pass): a component's DC before its AC, and each coefficient first sent
/// (`Ah = 0`) once, then refined one bit a scan (`Ah` the last `Al`, `Al = Ah - 1`).
/// So a coefficient is in at most 14 scans, and a scan repeated is refused here,
/// before any decoder runs.
pub(super) fn check_progression(frame: &Frame, scans: &[Scan]) -> Result<(), Rejection> {
    // Each component's coefficients: the `Al` of the last scan that sent them.
    let mut bits = vec![[None::<u8>; 64]; frame.components.len()];
    for scan in scans {
        for &(index, _, _) in &scan.components {
            let coefficients = &mut bits[index];
            let in_order = (scan.ss == 0 || coefficients[0].is_some())
                && coefficients[usize::from(scan.ss)..=usize::from(scan.se)]
                    .iter()
                    .all(|&sent| match sent {
                        None => scan.ah == 0,
                        Some(al) => scan.ah == al && scan.al + 1 == scan.ah,
                    });
            if !in_order {
                return Err(Rejection::corrupt(
                    Claimed::Jpeg,
                    "the JPEG's progressive scans are out of order",
                ));
            }
            coefficients[usize::from(scan.ss)..=usize::from(scan.se)].fill(Some(scan.al));
        }
    }
    Ok(())
}

/// A Huffman-coded block takes at least two bits in a sequential scan (a DC
/// difference code and an end-of-block code) and one in a progressive DC first
/// scan; a lossless sample at least one (its difference code, counted here per
/// "block" of one sample). A header claiming more than its data can hold is cut
/// short, and is rejected before a decoder spends time making up the missing rows.
pub(super) fn check_data_amount(frame: &Frame, scans: &[Scan]) -> Result<(), Rejection> {
    if frame.coding == Coding::Lossless {
        for scan in scans {
            let samples: u64 = scan
                .components
                .iter()
                .map(|&(index, _, _)| frame.samples(&frame.components[index]))
                .sum();
            if (scan.entropy_bytes() as u64) * 8 < samples {
                return Err(Rejection::corrupt(
                    Claimed::Jpeg,
                    "the JPEG data ends early",
                ));
            }
        }
        return Ok(());
    }
    for scan in scans {
        let bits_a_block = match frame.coding {
            Coding::Sequential => 2,
            _ if scan.ss == 0 && scan.ah == 0 => 1,
            _ => continue,
        };
        let blocks: u64 = scan
            .components
            .iter()
            .map(|&(index, _, _)| {
                let component = &frame.components[index];
                let (w, h) = if scan.components.len() > 1 {
                    frame.padded_blocks(component)
                } else {
                    frame.blocks(component)
                };
                u64::from(w) * u64::from(h)
            })
            .sum();
        if (scan.entropy_bytes() as u64) * 8 < blocks * bits_a_block {
            return Err(Rejection::corrupt(
                Claimed::Jpeg,
                "the JPEG data ends early",
            ));
        }
    }
    Ok(())
}
