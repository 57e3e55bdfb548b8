//! Logs for the Lambdas: one JSON object per line (CloudWatch Logs Insights
//! queries fields directly), no ANSI colours, level from `RUST_LOG` (default `info`).
//! The first line names the build: version and libjpeg-turbo.

use tracing_subscriber::EnvFilter;

pub fn init_lambda_logging() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .with_span_list(false)
        .with_target(false)
        .with_ansi(false)
        .with_env_filter(filter)
        .init();
    // The first line of every cold start: what this binary is built from, so a
    // log names the libjpeg-turbo that read the uploads (its advisories name
    // versions).
    tracing::info!(
        version = env!("CARGO_PKG_VERSION"),
        libjpeg_turbo = augment_pipeline::imaging::libjpeg_turbo_version(),
        "starting"
    );
}
