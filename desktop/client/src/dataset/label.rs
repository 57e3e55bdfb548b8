//! An upload's class label: its class folder, the first folder under
//! `original-uploads/` by default (`--label-depth N`: the first N folders), as
//! the person laid out their images (`cats/tom.jpg` → `cats`). A flat upload has
//! none.

/// `(label, rest)` of `<name>`: the first `depth` folders (fewer if the name has
/// fewer; none at depth 0 or for a flat name), joined with `/`, and what is left
/// of the name after them.
pub fn split_label(name: &str, depth: usize) -> (Option<&str>, &str) {
    let folders = name.matches('/').count();
    let take = depth.min(folders);
    if take == 0 {
        return (None, name);
    }
    let end = name
        .match_indices('/')
        .nth(take - 1)
        .map_or(name.len(), |(at, _)| at);
    (Some(&name[..end]), &name[end + 1..])
}

/// The label as one folder name (a deeper label's `/` becomes `__`): the class
/// folder torchvision's `ImageFolder` reads.
pub fn label_folder(label: &str) -> String {
    label.replace('/', "__")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_the_first_folders() {
        assert_eq!(split_label("cats/tom", 1), (Some("cats"), "tom"));
        assert_eq!(split_label("cats/in/tom", 1), (Some("cats"), "in/tom"));
        assert_eq!(split_label("cats/in/tom", 2), (Some("cats/in"), "tom"));
        assert_eq!(split_label("cats/tom", 3), (Some("cats"), "tom"));
        assert_eq!(split_label("tom", 1), (None, "tom"));
        assert_eq!(split_label("cats/tom", 0), (None, "cats/tom"));
        assert_eq!(label_folder("cats/in"), "cats__in");
    }
}
