//! What a run of `cargo xtask bench` measured: per image and peer, every timed
//! run, its CPU time and peak RSS; per JPEG, the floor line; and the sums the
//! report's ratios come from.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Peer {
    Ours,
    Pillow,
    Libvips,
}

impl Peer {
    pub const ALL: [Self; 3] = [Self::Ours, Self::Pillow, Self::Libvips];

    pub fn name(self) -> &'static str {
        match self {
            Self::Ours => "ours",
            Self::Pillow => "Pillow",
            Self::Libvips => "libvips",
        }
    }

    pub fn index(self) -> usize {
        match self {
            Self::Ours => 0,
            Self::Pillow => 1,
            Self::Libvips => 2,
        }
    }
}

/// What a run was asked for (`cargo xtask bench --rounds N --repeat N`), for the report.
pub struct Options {
    pub rounds: usize,
    pub repeat: usize,
}

impl Options {
    /// Timed runs per image and peer.
    pub fn runs(&self) -> usize {
        self.rounds * self.repeat
    }
}

/// One corpus image, as `gen_corpus.py` lists it in `corpus.json`.
pub struct CorpusImage {
    pub file: String,
    pub label: String,
    pub bytes: u64,
}

/// Everything measured for one (image, peer): every timed run, the CPU time they
/// took, and the highest peak RSS of any of its processes.
#[derive(Default)]
pub struct Measured {
    pub ms: Vec<f64>,
    pub cpu_ms: f64,
    pub peak_rss_kib: u64,
}

impl Measured {
    pub fn median_ms(&self) -> f64 {
        median(&self.ms)
    }

    pub fn cpu_ms_per_job(&self) -> f64 {
        self.cpu_ms / self.ms.len() as f64
    }

    /// Cores kept busy on average while timed: CPU time over wall time.
    pub fn cores(&self) -> f64 {
        self.cpu_ms / self.ms.iter().sum::<f64>()
    }
}

/// One image's measurements, indexed by `Peer::index`.
pub type PerPeer = [Measured; 3];

/// The floor line for one JPEG: per `jpeg_floor` process, the median of its runs of
/// libjpeg-turbo's 1/8 decode alone, of our decode, and of our whole job.
#[derive(Default)]
pub struct Floor {
    pub floor_ms: Vec<f64>,
    pub decode_ms: Vec<f64>,
    pub job_ms: Vec<f64>,
}

impl Floor {
    /// The whole job over the floor, in the same processes: the median of the
    /// per-process ratios, so a noisy process does not skew it.
    pub fn job_over_floor(&self) -> f64 {
        per_process(&self.job_ms, &self.floor_ms, |job, floor| job / floor)
    }

    /// Our decode over the floor: the median of the per-process ratios.
    pub fn decode_over_floor(&self) -> f64 {
        per_process(&self.decode_ms, &self.floor_ms, |decode, floor| {
            decode / floor
        })
    }

    /// The whole job over our decode: the median of the per-process ratios.
    pub fn job_over_decode(&self) -> f64 {
        per_process(&self.job_ms, &self.decode_ms, |job, decode| job / decode)
    }

    /// The work after the decode (ms): the median of the per-process differences.
    pub fn after_decode_ms(&self) -> f64 {
        per_process(&self.job_ms, &self.decode_ms, |job, decode| job - decode)
    }
}

/// The median over processes of `f(a, b)`.
fn per_process(a: &[f64], b: &[f64], f: impl Fn(f64, f64) -> f64) -> f64 {
    let values: Vec<f64> = a.iter().zip(b).map(|(&a, &b)| f(a, b)).collect();
    median(&values)
}

/// What a run found, for the report.
pub struct Report {
    pub machine: Machine,
    pub options: Options,
    pub corpus: Vec<CorpusImage>,
    /// `results[image][peer.index()]`.
    pub results: Vec<PerPeer>,
    pub baseline_kib: [u64; 3],
    /// `agreement[image][peer.index()]`: lowest PSNR (dB) of the peer's five outputs
    /// against ours; `None` for ours.
    pub agreement: Vec<[Option<f64>; 3]>,
    /// `floors[image]`: the floor line, for the corpus's JPEGs.
    pub floors: Vec<Option<Floor>>,
}

impl Report {
    /// Each peer's sum over the corpus of `figure`, indexed by `Peer::index`.
    fn corpus_sums(&self, figure: fn(&Measured) -> f64) -> [f64; 3] {
        Peer::ALL.map(|peer| self.results.iter().map(|r| figure(&r[peer.index()])).sum())
    }

    /// The corpus image named `file` with its floor line, if it has one.
    pub fn floor_of(&self, file: &str) -> Option<(&CorpusImage, &Floor)> {
        let i = self.corpus.iter().position(|image| image.file == file)?;
        Some((&self.corpus[i], self.floors[i].as_ref()?))
    }
}

pub struct Machine {
    pub cores: usize,
    pub cpu_model: String,
    pub date: String,
    pub load_before: String,
    pub load_after: String,
    pub versions: String,
}

pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    match sorted.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => sorted[n / 2],
        n => f64::midpoint(sorted[n / 2 - 1], sorted[n / 2]),
    }
}

pub fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Each peer's sums over the corpus, indexed by `Peer::index`: of the median wall
/// times (the corpus ratios are ratios of these) and of the CPU time per job.
pub struct Totals {
    pub wall: [f64; 3],
    pub cpu: [f64; 3],
}

impl Totals {
    pub fn of(report: &Report) -> Self {
        Self {
            wall: report.corpus_sums(Measured::median_ms),
            cpu: report.corpus_sums(Measured::cpu_ms_per_job),
        }
    }

    /// Ours over `peer`'s wall time across the corpus.
    pub fn wall_ratio(&self, peer: Peer) -> f64 {
        self.wall[0] / self.wall[peer.index()]
    }

    /// Ours over `peer`'s CPU time across the corpus.
    pub fn cpu_ratio(&self, peer: Peer) -> f64 {
        self.cpu[0] / self.cpu[peer.index()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), 2.5);
        assert!(median(&[]).is_nan());
    }

    #[test]
    fn floor_ratio_is_the_median_of_per_process_ratios() {
        let floor = Floor {
            floor_ms: vec![100.0, 50.0, 80.0],
            decode_ms: vec![60.0, 30.0, 50.0],
            job_ms: vec![110.0, 100.0, 80.0],
        };
        // Ratios 1.1, 2.0 and 1.0: the noisy middle process does not decide.
        assert!((floor.job_over_floor() - 1.1).abs() < 1e-9);
    }
}
