//! `augment-desktop [FILES]...`: the desktop app (being built in issue 5).

fn main() -> anyhow::Result<()> {
    anyhow::bail!("the desktop app is not built yet")
}
