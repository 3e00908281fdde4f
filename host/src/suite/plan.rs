//! Planning a suite run: which cases run, on which guest files, and which guest files no case
//! runs. Two layouts: case files that name their guests (`--cases`), and this repository's
//! (`<abi>_<lang>_<scenario>.wasm` guests against `<scenario>.toml` expectations). Every
//! problem with the input (an unreadable directory, a malformed case file, a case that would
//! run twice, a filter that matches nothing) is an `Err` (exit 2); a guest file no case runs
//! is a warning.

use super::expect::{self, Abi, Case, Lang, Layout};
use super::SuiteOptions;
use std::path::{Path, PathBuf};

/// One case to run.
pub(super) struct Planned {
    /// `<scenario>/<case>` (`<abi>_<lang>_<scenario>/<case>` for a repository guest).
    pub(super) id: String,
    /// The scenario (for `--cases`: the case file's path without `.toml`).
    pub(super) scenario: String,
    /// The guest's ABI (for a `--cases` guest, found when it is loaded).
    pub(super) abi: Option<Abi>,
    /// The guest's language (none for a `--cases` guest).
    pub(super) lang: Option<Lang>,
    /// The guest file.
    pub(super) guest: PathBuf,
    /// Where relative host paths of the case start (the case file's directory).
    pub(super) base: PathBuf,
    /// The case (`None` for a guest no case accounts for).
    pub(super) case: Option<Case>,
    /// For a guest the expectations do not account for: why.
    pub(super) unaccounted: Option<String>,
}

/// Whether `path` is a guest file by its name (`.wasm` or `.wat`).
fn is_guest_file(path: &Path) -> bool {
    path.extension().is_some_and(|x| x == "wasm" || x == "wat")
}

/// Splits `p1_rust_stdin_nonblock_read.wasm` into (abi, lang, scenario).
fn parse_guest_name(path: &Path) -> Option<(Abi, Lang, String)> {
    let name = path.file_name()?.to_str()?;
    let stem = name
        .strip_suffix(".wasm")
        .or_else(|| name.strip_suffix(".wat"))?;
    let mut parts = stem.splitn(3, '_');
    let (abi, lang, scenario) = (parts.next()?, parts.next()?, parts.next()?);
    let abi = [Abi::P1, Abi::P2, Abi::P3]
        .into_iter()
        .find(|a| a.name() == abi)?;
    let lang = Lang::ALL.into_iter().find(|l| l.name() == lang)?;
    Some((abi, lang, scenario.to_string()))
}

/// The first planned case whose id an earlier case has (guests no case accounts for aside).
fn runs_twice(planned: &[Planned]) -> Option<&Planned> {
    let mut seen = std::collections::HashSet::new();
    planned
        .iter()
        .filter(|p| p.case.is_some())
        .find(|p| !seen.insert(p.id.as_str()))
}

/// Keeps the cases whose id contains the filter; a filter that keeps none is an input error.
fn apply_filter(out: &mut Vec<Planned>, filter: Option<&str>) -> Result<(), String> {
    let Some(f) = filter else { return Ok(()) };
    out.retain(|p| p.id.contains(f));
    if out.is_empty() {
        return Err(format!("--filter {f}: no case id contains it"));
    }
    Ok(())
}

/// The planned cases, and warnings about guest files no case runs.
pub(super) type Plan = (Vec<Planned>, Vec<String>);

/// Finds the guests and pairs them with their cases. An input error (exit 2) when either
/// directory cannot be read or an expectations file is malformed.
pub(super) fn plan(opts: &SuiteOptions) -> Result<Plan, String> {
    if let Some(cases) = &opts.cases {
        return plan_cases(cases, opts);
    }
    let dir = match &opts.peer {
        Some((peer, _)) => opts.expectations.join(peer.name),
        None => opts.expectations.clone(),
    };
    let files = expect::load_dir(&dir).map_err(|e| e.to_string())?;
    let entries = std::fs::read_dir(&opts.guests).map_err(|e| {
        format!(
            "{}: {e} (build the guests first: `make build`)",
            opts.guests.display()
        )
    })?;
    let mut warnings = Vec::new();
    let mut guests: Vec<(PathBuf, (Abi, Lang, String))> = Vec::new();
    for p in entries.filter_map(|e| e.ok().map(|e| e.path())) {
        match parse_guest_name(&p) {
            Some(n) => guests.push((p, n)),
            None if is_guest_file(&p) => warnings.push(format!(
                "{}: not run: not named <p1|p2|p3>_<rust|c|wat>_<scenario> (use --cases for any guest)",
                p.display()
            )),
            None => {}
        }
    }
    warnings.sort();
    guests.sort_by(|a, b| a.0.cmp(&b.0));
    if guests.is_empty() {
        return Err(format!(
            "{}: no guests (build them first: `make build`)",
            opts.guests.display()
        ));
    }
    let mode = opts.wasi.name();
    let mut out = Vec::new();
    for (path, (abi, lang, scenario)) in guests {
        // Another runtime runs its own ABIs, and only the scenarios recorded for it.
        if let Some((peer, _)) = &opts.peer {
            if !peer.abis.contains(&abi.name()) || !files.contains_key(&scenario) {
                continue;
            }
        }
        let (abi_name, lang_name) = (abi.name(), lang.name());
        let base = format!("{abi_name}_{lang_name}_{scenario}");
        let planned = |case: Option<Case>, unaccounted: Option<String>| Planned {
            id: match &case {
                Some(c) => format!("{base}/{}", c.name),
                None => base.clone(),
            },
            scenario: scenario.clone(),
            abi: Some(abi),
            lang: Some(lang),
            guest: path.clone(),
            base: opts.expectations.clone(),
            case,
            unaccounted,
        };
        let Some(file) = files.get(&scenario) else {
            let why = format!(
                "no expectations: add {}/{scenario}.toml",
                opts.expectations.display()
            );
            out.push(planned(None, Some(why)));
            continue;
        };
        let cases: Vec<&Case> = file.cases.iter().filter(|c| c.selects(abi, lang)).collect();
        if cases.is_empty() {
            let why = format!("no case in {scenario}.toml applies to {abi_name} {lang_name}");
            out.push(planned(None, Some(why)));
            continue;
        }
        for c in cases.into_iter().filter(|c| c.runs_in(opts.wasi)) {
            out.push(planned(Some(c.clone()), None));
        }
    }
    // Two cases of one scenario that apply to the same guest would share an id.
    if let Some(p) = runs_twice(&out) {
        return Err(format!(
            "{}/{}.toml: case `{}` applies twice to {} {} ({mode}); give one of them abi, langs or wasi",
            dir.display(),
            p.scenario,
            p.case.as_ref().map(|c| c.name.get_ref().as_str()).unwrap_or_default(),
            p.abi.map_or("", Abi::name),
            p.lang.map_or("", Lang::name)
        ));
    }
    apply_filter(&mut out, opts.filter.as_deref())?;
    Ok((out, warnings))
}

/// Case files with their id prefixes, and the guest files beside them.
type CaseFiles = (Vec<(PathBuf, String)>, Vec<PathBuf>);

/// The case files of `--cases PATH`: the file itself, or every `*.toml` under the directory
/// (sorted), each with its id prefix (its path from PATH without `.toml`, `/`-separated); and
/// every guest file under the directory.
fn case_files(root: &Path) -> Result<CaseFiles, String> {
    let meta = std::fs::metadata(root).map_err(|e| format!("{}: {e}", root.display()))?;
    if !meta.is_dir() {
        let stem = root.file_stem().unwrap_or_default().to_string_lossy();
        return Ok((vec![(root.to_path_buf(), stem.into_owned())], Vec::new()));
    }
    let (mut files, mut guests) = (Vec::new(), Vec::new());
    let mut todo = vec![root.to_path_buf()];
    while let Some(dir) = todo.pop() {
        let entries = std::fs::read_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for p in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            if p.is_dir() {
                todo.push(p);
            } else if p.extension().is_some_and(|x| x == "toml") {
                let rel = p.strip_prefix(root).unwrap_or(&p).with_extension("");
                let id: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                files.push((p, id.join("/")));
            } else if is_guest_file(&p) {
                guests.push(p);
            }
        }
    }
    files.sort();
    guests.sort();
    if files.is_empty() {
        return Err(format!("{}: no case files (*.toml)", root.display()));
    }
    Ok((files, guests))
}

/// Plans `--cases PATH`: every case of every file, in this mode; warns about guest files in
/// the directory that no case names (in any mode).
fn plan_cases(root: &Path, opts: &SuiteOptions) -> Result<Plan, String> {
    if opts.peer.is_some() {
        return Err("--cases runs under wouldblock only (other runtimes run this repository's guests against their recorded expectations)".into());
    }
    let (files, guests) = case_files(root)?;
    let mut out = Vec::new();
    let mut named = std::collections::HashSet::new();
    for (path, prefix) in &files {
        let file = expect::load_file(path, Layout::Cases).map_err(|e| e.to_string())?;
        let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
        for c in file.cases {
            let guest = base.join(c.guest.as_ref().expect("checked when loaded").get_ref());
            named.insert(std::fs::canonicalize(&guest).unwrap_or(guest.clone()));
            if !c.runs_in(opts.wasi) {
                continue;
            }
            out.push(Planned {
                id: format!("{prefix}/{}", c.name),
                scenario: prefix.clone(),
                abi: None,
                lang: None,
                guest,
                base: base.clone(),
                case: Some(c),
                unaccounted: None,
            });
        }
    }
    if let Some(twice) = runs_twice(&out) {
        return Err(format!(
            "case `{}` runs twice in {} mode; give one of them wasi = \"faithful\" or \"stock\"",
            twice.id,
            opts.wasi.name()
        ));
    }
    let warnings = guests
        .into_iter()
        .filter(|g| !named.contains(&std::fs::canonicalize(g).unwrap_or(g.clone())))
        .map(|g| format!("{}: not run: no case names it", g.display()))
        .collect();
    apply_filter(&mut out, opts.filter.as_deref())?;
    Ok((out, warnings))
}
