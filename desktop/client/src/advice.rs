//! Which setting fixes an error, apart from where a person changes it: the
//! client's error names the setting, each front end says where it is set (the
//! app: Settings; `augment`: its flag or environment variable).

/// A setting a person can change to get past an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setting {
    Bucket,
    Region,
    Profile,
    EndpointUrl,
    /// Plain `http://` to another machine, allowed.
    AllowHttp,
    /// Local mode's data folder.
    DataFolder,
}

/// A front end's words for where settings are changed: what follows an
/// advice's verb phrase ("pick a profile" + " in Settings").
pub trait Surface {
    /// The place, with its leading space: " in Settings", " with --profile".
    fn place(&self, settings: &[Setting]) -> String;
}

/// The words for logs and any front end that does not say: " in the settings".
#[derive(Debug, Clone, Copy, Default)]
pub struct Anywhere;

impl Surface for Anywhere {
    fn place(&self, _settings: &[Setting]) -> String {
        ANYWHERE.to_owned()
    }
}

impl Setting {
    const ALL: [Self; 6] = [
        Self::Bucket,
        Self::Region,
        Self::Profile,
        Self::EndpointUrl,
        Self::AllowHttp,
        Self::DataFolder,
    ];

    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// The settings an error names, as a set: a byte, so the error stays small.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SettingSet(u8);

impl SettingSet {
    pub(crate) fn of(settings: &[Setting]) -> Self {
        Self(
            settings
                .iter()
                .fold(0, |bits, setting| bits | setting.bit()),
        )
    }

    pub(crate) fn to_vec(self) -> Vec<Setting> {
        Setting::ALL
            .into_iter()
            .filter(|setting| self.0 & setting.bit() != 0)
            .collect()
    }
}

/// Where an advised message is to name the place its settings are changed
/// (written into its template; only the first one counts).
pub(crate) const PLACE: &str = "\u{2060}place\u{2060}";

/// [`Anywhere`]'s words, which an advised message holds at its place.
const ANYWHERE: &str = " in the settings";

/// The advised place in a message: where it starts, and its settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Place {
    pub(crate) at: u32,
    pub(crate) settings: SettingSet,
}

/// `template` with its place worded [`Anywhere`], and where that place is.
pub(crate) fn place(template: String, settings: &[Setting]) -> (String, Option<Place>) {
    let Some(at) = template.find(PLACE) else {
        return (template, None);
    };
    let mut message = template;
    message.replace_range(at..at + PLACE.len(), ANYWHERE);
    let place = u32::try_from(at).ok().map(|at| Place {
        at,
        settings: SettingSet::of(settings),
    });
    (message, place)
}

/// `message` with its place worded by `surface` (as it is, if the place is
/// not where it was).
pub(crate) fn worded(message: &str, place: Option<Place>, surface: &dyn Surface) -> String {
    let Some(Place { at, settings }) = place else {
        return message.to_owned();
    };
    let at = at as usize;
    let end = at + ANYWHERE.len();
    if message.get(at..end) != Some(ANYWHERE) {
        return message.to_owned();
    }
    let mut words = message.to_owned();
    words.replace_range(at..end, &surface.place(&settings.to_vec()));
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ClientError;

    /// A front end that names the settings by their variant.
    struct Named;

    impl Surface for Named {
        fn place(&self, settings: &[Setting]) -> String {
            format!(" via {settings:?}")
        }
    }

    #[test]
    fn each_front_end_words_where_the_setting_is_changed() {
        let err = ClientError::no_such_bucket("photos");
        assert_eq!(err.settings(), [Setting::Bucket, Setting::Region]);
        assert_eq!(
            err.words(&Named),
            "The bucket does not exist. Check the bucket name and region via [Bucket, Region], or import the Terraform outputs: photos"
        );
        assert_eq!(err.message, err.words(&Anywhere));
        assert!(
            err.message.contains("region in the settings,"),
            "{}",
            err.message
        );

        // Tried for a while: the advice stays, after the new words.
        let err = ClientError::no_credentials().gave_up(3, std::time::Duration::from_secs(9));
        let words = err.words(&Named);
        assert!(
            words.starts_with("Still failing after 3 tries in 9 s. No AWS"),
            "{words}"
        );
        assert!(words.ends_with("pick a profile via [Profile]."), "{words}");
    }

    #[test]
    fn only_the_first_place_is_worded_so_a_name_cannot_pose_as_one() {
        let (message, at) = place(format!("Set it{PLACE}: a{PLACE}b"), &[Setting::Region]);
        assert_eq!(message, format!("Set it in the settings: a{PLACE}b"));
        assert_eq!(
            worded(&message, at, &Named),
            format!("Set it via [Region]: a{PLACE}b")
        );
    }
}
