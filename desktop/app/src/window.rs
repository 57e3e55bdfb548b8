//! The window's size: the one restored from the last run (or the default) is
//! clamped to the screen and to the minimum, once the screen's size is known.
//! At 200 % scale the default 1180×760 points would be 2360×1520 pixels, more
//! than a 1920×1080 screen: it shrinks to fit.

use egui::Vec2;

/// The window's size when it first opens, in points.
pub const WINDOW_SIZE: [f32; 2] = [1180.0, 760.0];
/// Smallest useful window, in points (the layout holds down to 800×500).
pub const MIN_WINDOW_SIZE: [f32; 2] = [760.0, 480.0];
/// Share of the screen the window may take at most on each axis (room for a
/// panel or a title bar).
const SCREEN_SHARE: f32 = 0.95;

/// The size `inner` should become on a `monitor`-sized screen (both in
/// points), or `None` if it is fine as it is.
pub fn fitted_size(inner: Vec2, monitor: Vec2) -> Option<Vec2> {
    let min = Vec2::from(MIN_WINDOW_SIZE);
    let max = monitor * SCREEN_SHARE;
    // A screen smaller than the minimum: the screen wins.
    let fitted = inner.max(min).min(max.max(Vec2::splat(1.0)));
    let changed = (fitted - inner).abs().max_elem() >= 1.0;
    changed.then_some(fitted)
}

/// Checks the window once, when the screen's size is first known.
#[derive(Default)]
pub struct WindowFit {
    done: bool,
}

impl WindowFit {
    /// Called every frame; sends one resize at most, ever.
    pub fn check(&mut self, ctx: &egui::Context) {
        if self.done {
            return;
        }
        let (inner, monitor) = ctx.input(|i| {
            let viewport = i.viewport();
            (viewport.inner_rect.map(|r| r.size()), viewport.monitor_size)
        });
        let (Some(inner), Some(monitor)) = (inner, monitor) else {
            return;
        };
        self.done = true;
        if let Some(size) = fitted_size(inner, monitor) {
            tracing::info!(
                "window {}×{} pt resized to {}×{} to fit the {}×{} pt screen and the minimum",
                inner.x,
                inner.y,
                size.x,
                size.y,
                monitor.x,
                monitor.y
            );
            ctx.send_viewport_cmd(egui::ViewportCommand::InnerSize(size));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_size_fits_a_1080p_screen_at_200_percent() {
        // 1920×1080 pixels at 200 % is 960×540 points.
        let size = fitted_size(Vec2::from(WINDOW_SIZE), Vec2::new(960.0, 540.0)).unwrap();
        assert!(size.x <= 960.0 && size.y <= 540.0, "{size:?}");
        assert!(size.x >= MIN_WINDOW_SIZE[0] && size.y >= MIN_WINDOW_SIZE[1]);
    }

    #[test]
    fn a_restored_window_below_the_minimum_grows_to_it() {
        let size = fitted_size(Vec2::new(400.0, 300.0), Vec2::new(1920.0, 1080.0)).unwrap();
        assert_eq!(size, Vec2::from(MIN_WINDOW_SIZE));
    }

    #[test]
    fn a_window_that_fits_is_left_alone() {
        assert_eq!(
            fitted_size(Vec2::from(WINDOW_SIZE), Vec2::new(1920.0, 1080.0)),
            None
        );
    }
}
