//! The gallery's texture cache: thumbnails and rotations by key, uploaded to
//! the GPU a bounded number a frame, and let go past [`MAX_TEXTURES`] once
//! nothing draws them.

use egui::{ColorImage, TextureHandle, TextureOptions};

use super::model::{Gallery, Thumb};
use crate::command::{Command, GalleryCommand};

/// Textures kept once they are off screen (cards, detail images, the queue's
/// rotations): at most 256 KiB each, so about 64 MiB. More than a 4K screen
/// of cards and an open detail view; what is on screen is never let go.
pub const MAX_TEXTURES: usize = 256;

/// Decoded images turned into textures in one frame, at most. Each is a copy
/// to the GPU of up to 256 KiB; during a large local batch hundreds may be
/// ready at once, and uploading them all in one frame stalls it. The rest
/// wait, shown as loading, and go in the next frames (the app asks for them).
pub const MAX_TEXTURE_UPLOADS_PER_FRAME: usize = 8;

impl Gallery {
    /// A decoded image for `key`: uploaded as a texture by
    /// [`Gallery::upload_textures`], in turn; until then it shows as loading.
    pub fn image_ready(&mut self, key: String, image: ColorImage) {
        self.thumbs.insert(key.clone(), Thumb::Loading);
        self.uploads.retain(|(waiting, _)| *waiting != key);
        self.uploads.push_back((key, image));
    }

    /// Uploads at most [`MAX_TEXTURE_UPLOADS_PER_FRAME`] of the images waiting,
    /// oldest first; returns how many still wait (the caller asks for another
    /// frame). Called once a frame, before drawing.
    pub fn upload_textures(&mut self, ctx: &egui::Context) -> usize {
        for _ in 0..MAX_TEXTURE_UPLOADS_PER_FRAME {
            let Some((key, image)) = self.uploads.pop_front() else {
                break;
            };
            let texture = ctx.load_texture(&key, image, TextureOptions::LINEAR);
            self.thumbs.insert(key, Thumb::Ready(texture));
        }
        self.uploads.len()
    }

    /// Forgets the textures of `keys`, loaded or waiting (their name was
    /// uploaded again).
    pub(super) fn forget_textures<'a>(&mut self, keys: impl IntoIterator<Item = &'a str>) {
        for key in keys {
            self.thumbs.remove(key);
            self.uploads.retain(|(waiting, _)| waiting != key);
        }
    }

    /// The texture for `key` once it is loaded, asking the worker for it the
    /// first time (or again after [`Gallery::trim`] let it go).
    pub fn texture(
        &mut self,
        key: &str,
        side: u32,
        commands: &mut Vec<Command>,
    ) -> Option<TextureHandle> {
        match self.thumb(key, side, commands) {
            Thumb::Ready(texture) => Some(texture.clone()),
            _ => None,
        }
    }

    /// Lets go of the textures not asked for this frame beyond the newest
    /// [`MAX_TEXTURES`] (a texture is 256 KiB at full size: a batch of a
    /// thousand files once kept 4,000 of them, about 1 GiB). Called once a
    /// frame, after drawing; one still loading is kept.
    pub fn trim(&mut self) {
        let frame = self.frame;
        self.frame += 1;
        if self.thumbs.len() <= MAX_TEXTURES {
            return;
        }
        // Never asked for (a rotation that landed in a row) sorts first.
        let mut idle: Vec<(Option<u64>, String)> = self
            .thumbs
            .iter()
            .filter(|(_, thumb)| !matches!(thumb, Thumb::Loading))
            .map(|(key, _)| (self.used.get(key).copied(), key.clone()))
            .filter(|(used, _)| used.is_none_or(|used| used < frame))
            .collect();
        idle.sort_unstable();
        self.used.retain(|key, _| self.thumbs.contains_key(key));
        let excess = self.thumbs.len() - MAX_TEXTURES;
        for (_, key) in idle.into_iter().take(excess) {
            self.thumbs.remove(&key);
            self.used.remove(&key);
        }
    }

    /// A texture for `key`, asking the worker for it the first time.
    pub(super) fn thumb(&mut self, key: &str, side: u32, commands: &mut Vec<Command>) -> &Thumb {
        self.used.insert(key.to_owned(), self.frame);
        self.thumbs.entry(key.to_owned()).or_insert_with(|| {
            commands.push(Command::Gallery(GalleryCommand::Thumbnail {
                key: key.to_owned(),
                side,
            }));
            Thumb::Loading
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::thumbs::FULL_PX;

    fn ready(ctx: &egui::Context, key: &str) -> Thumb {
        let image = ColorImage::filled([4, 4], egui::Color32::WHITE);
        Thumb::Ready(ctx.load_texture(key, image, TextureOptions::LINEAR))
    }

    #[test]
    fn the_texture_cache_keeps_what_is_drawn_and_a_bounded_rest() {
        let ctx = egui::Context::default();
        let mut gallery = Gallery::default();
        let mut commands = Vec::new();
        // A long batch: far more rotations landed than the cache keeps.
        for n in 0..MAX_TEXTURES * 3 {
            let key = format!("augmented-images/90-degree/{n}.jpg");
            gallery.thumbs.insert(key, ready(&ctx, "t"));
        }
        gallery.trim();
        assert_eq!(gallery.thumbs.len(), MAX_TEXTURES);

        // Drawn this frame: kept even past the bound, and reused, not fetched again.
        let drawn: Vec<String> = gallery.thumbs.keys().take(10).cloned().collect();
        for n in 0..MAX_TEXTURES {
            let key = format!("processed/new-{n}_256x256.jpg");
            gallery.thumbs.insert(key, ready(&ctx, "t"));
        }
        for key in &drawn {
            assert!(gallery.texture(key, FULL_PX, &mut commands).is_some());
        }
        assert!(commands.is_empty());
        gallery.trim();
        assert_eq!(gallery.thumbs.len(), MAX_TEXTURES);
        assert!(drawn.iter().all(|key| gallery.thumbs.contains_key(key)));

        // Let go and asked for again: fetched again.
        let gone = "augmented-images/90-degree/gone.jpg";
        assert!(gallery.texture(gone, FULL_PX, &mut commands).is_none());
        assert_eq!(commands.len(), 1);
    }

    #[test]
    fn a_frame_with_many_ready_thumbnails_uploads_at_most_the_bound() {
        let ctx = egui::Context::default();
        let mut gallery = Gallery::default();
        let ready_count = MAX_TEXTURE_UPLOADS_PER_FRAME * 3 + 1;
        for n in 0..ready_count {
            let image = ColorImage::filled([8, 8], egui::Color32::WHITE);
            gallery.image_ready(format!("processed/{n}_256x256.jpg"), image);
        }
        let allocated = || ctx.tex_manager().read().num_allocated();
        let mut frames = 0;
        loop {
            let before = allocated();
            let left = gallery.upload_textures(&ctx);
            frames += 1;
            assert!(allocated() - before <= MAX_TEXTURE_UPLOADS_PER_FRAME);
            if left == 0 {
                break;
            }
        }
        assert_eq!(frames, ready_count.div_ceil(MAX_TEXTURE_UPLOADS_PER_FRAME));
        let shown = gallery
            .thumbs
            .values()
            .filter(|thumb| matches!(thumb, Thumb::Ready(_)))
            .count();
        assert_eq!(shown, ready_count);
    }

    #[test]
    fn an_image_waiting_for_its_upload_shows_as_loading_and_is_not_fetched_again() {
        let ctx = egui::Context::default();
        let mut gallery = Gallery::default();
        let mut commands = Vec::new();
        for n in 0..=MAX_TEXTURE_UPLOADS_PER_FRAME {
            let image = ColorImage::filled([8, 8], egui::Color32::WHITE);
            gallery.image_ready(format!("k{n}"), image);
        }
        gallery.upload_textures(&ctx);
        let last = format!("k{MAX_TEXTURE_UPLOADS_PER_FRAME}");
        assert!(gallery.texture(&last, FULL_PX, &mut commands).is_none());
        assert!(commands.is_empty());
        assert_eq!(gallery.upload_textures(&ctx), 0);
        assert!(gallery.texture(&last, FULL_PX, &mut commands).is_some());

        // The name uploaded again: a waiting image of it is stale and goes.
        gallery.image_ready(
            "k0".to_owned(),
            ColorImage::filled([8, 8], egui::Color32::WHITE),
        );
        gallery.forget_textures(["k0"]);
        assert_eq!(gallery.upload_textures(&ctx), 0);
        assert!(!gallery.thumbs.contains_key("k0"));
    }
}
