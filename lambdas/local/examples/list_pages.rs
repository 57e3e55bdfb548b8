//! Times a listing of the local store page by page (1,000 keys a page, as S3
//! hands them out), over a bucket folder of `count` uploads with their five
//! outputs each: `list_pages <folder> <count>` makes the folder when it is not
//! there. The figures are in docs/BENCHMARKS.md ("Listing the local store").

use std::error::Error;
use std::path::PathBuf;
use std::time::Instant;

use augment_local::FolderStore;
use augment_pipeline::contract::{UPLOAD_PREFIX, UploadKey};
use augment_pipeline::outputs::Output;
use augment_pipeline::ports::{ListRequest, ObjectStore};

const PAGE_KEYS: usize = 1000;

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(root), Some(count)) = (args.next(), args.next()) else {
        return Err("usage: list_pages <folder> <count>".into());
    };
    let root = PathBuf::from(root);
    let count: usize = count.parse()?;
    let store = FolderStore::new(&root);
    if !root.exists() {
        for i in 0..count {
            let upload = UploadKey::parse(&format!("{UPLOAD_PREFIX}img-{i:06}.jpg"))?;
            let keys = Output::ALL.iter().map(|output| output.key(&upload));
            for key in std::iter::once(upload.as_str().to_owned()).chain(keys) {
                let path = store.path_of(&key)?;
                std::fs::create_dir_all(path.parent().ok_or("no folder")?)?;
                std::fs::write(path, b"x")?;
            }
        }
    }
    for prefix in ["", "processed/"] {
        let started = Instant::now();
        let mut cursor: Option<String> = None;
        let (mut pages, mut keys) = (0, 0);
        loop {
            let request = ListRequest::new(prefix, cursor.as_deref(), PAGE_KEYS);
            let page = store.list_page(request).await?;
            pages += 1;
            keys += page.objects.len();
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        let seconds = started.elapsed().as_secs_f64();
        println!("{prefix:?}: {keys} keys in {pages} pages, {seconds:.2} s");
    }
    Ok(())
}
