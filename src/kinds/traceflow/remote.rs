//! `import --from URL`: the traceflows of a live NSX Manager (or of another
//! nsx-policy-store), page by page, as import lines; and, with `--with-results`, each one's
//! recorded result (its status and observations there) as a script, to set once they are
//! imported.

use serde_json::Value;

use super::results::Script;
use super::COLLECTION_PATH;
use crate::domain::ObjectId;
use crate::http::POLICY_API;

/// What was read: the import lines, and the scripts of those that had a result.
pub struct Fetched {
    pub lines: Vec<u8>,
    pub scripts: Vec<(ObjectId, Script)>,
}

/// Reads every traceflow through `get` (a GET of a path of the remote, its JSON answer);
/// `progress` hears the list's size, then each object read.
pub async fn fetch(
    get: impl AsyncFn(&str) -> anyhow::Result<Value>,
    with_results: bool,
    progress: impl Fn(Progress),
) -> anyhow::Result<Fetched> {
    let mut fetched = Fetched {
        lines: Vec::new(),
        scripts: Vec::new(),
    };
    let mut cursor: Option<String> = None;
    loop {
        let mut path = format!("{POLICY_API}{COLLECTION_PATH}?page_size=1000");
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={cursor}"));
        }
        let page = get(&path).await?;
        progress(Progress::Total(page["result_count"].as_u64().unwrap_or(0)));
        for object in page["results"].as_array().into_iter().flatten() {
            fetched
                .lines
                .extend_from_slice(object.to_string().as_bytes());
            fetched.lines.push(b'\n');
            progress(Progress::Read);
            if with_results {
                fetched.scripts.extend(recorded_result(&get, object).await?);
            }
        }
        match page["cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    Ok(fetched)
}

/// How far a [`fetch`] has got.
pub enum Progress {
    /// How many objects there are to read.
    Total(u64),
    /// One more was read.
    Read,
}

/// The status and observations of `object` there, as a script; none without a result.
async fn recorded_result(
    get: &impl AsyncFn(&str) -> anyhow::Result<Value>,
    object: &Value,
) -> anyhow::Result<Option<(ObjectId, Script)>> {
    let Some(id) = object["id"].as_str() else {
        return Ok(None);
    };
    let id = ObjectId::parse(id).map_err(|err| anyhow::anyhow!("{err}"))?;
    let encoded =
        percent_encoding::utf8_percent_encode(id.as_str(), percent_encoding::NON_ALPHANUMERIC);
    let traceflow = format!("{POLICY_API}{COLLECTION_PATH}/{encoded}");
    let status = get(&format!("{traceflow}/status")).await?;
    if status.get("phase").is_none() {
        return Ok(None);
    }
    let observations = get(&format!("{traceflow}/observations")).await?;
    let script = serde_json::json!({"status": status, "observations": observations["results"]});
    let script = Script::parse(script.to_string().as_bytes())
        .map_err(|err| anyhow::anyhow!("the result of {id} there: {err}"))?;
    Ok(Some((id, script)))
}
