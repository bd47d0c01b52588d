//! `iamgate whatif`: every principal of a corpus against every network, and what a guardrail would change
//! (docs/whatif.md).

use super::CliError;
use super::policies::{Level, parse_level};
use crate::network::{Network, StepDecision, Verdict};
use crate::whatif::runner::{Cell, Deciding, Guardrail, GuardrailKind, Options, Row, Runner};
use crate::whatif::summary::Summary;
use crate::whatif::{InputError, Item, PolicyDoc, Principal, Shard, inputs, synth};
use std::io::{BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(clap::Args, Debug, Default)]
pub(crate) struct Args {
    /// Policy files and folders (one principal per identity-policy file), Case JSONL files and
    /// `aws iam get-account-authorization-details` exports.
    #[arg(value_name = "INPUT")]
    inputs: Vec<PathBuf>,
    /// Network files or folders of them (the presign network format, docs/network.md).
    #[arg(long, value_name = "N", num_args = 1..)]
    networks: Vec<PathBuf>,
    /// One SCP level, root first, as for `decide`: `[NAME:]FILE[,FILE...]` or a folder whose .json files are the
    /// level's policies; repeat the flag for each level.
    #[arg(long = "scp", value_name = "[NAME:]FILE[,FILE...]", value_parser = parse_level)]
    scps: Vec<Level>,
    /// One RCP level, written as for `--scp`; RCPs can only deny.
    #[arg(long = "rcp", value_name = "[NAME:]FILE[,FILE...]", value_parser = parse_level)]
    rcps: Vec<Level>,
    /// A candidate policy: decide with and without it and show only the rows it changes.
    #[arg(long, value_name = "P.json")]
    guardrail: Option<PathBuf>,
    /// What the candidate is: `scp` (added to the last SCP level), `rcp`, `boundary` (replaces every
    /// principal's boundary) or `endpoint` (replaces the policy of every endpoint reached).
    #[arg(long, value_name = "KIND", default_value = "scp")]
    guardrail_kind: String,
    /// Output format: table, csv, jsonl or markdown.
    #[arg(long, value_name = "FORMAT", default_value = "table")]
    format: String,
    /// Write the rows here instead of standard output.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Take a stable 1/N of the principals: `K/N`, 1 <= K <= N.
    #[arg(long, value_name = "K/N")]
    shard: Option<String>,
    /// The user profile every principal targets, in place of each network's `user_profile`.
    #[arg(long, value_name = "NAME")]
    user_profile: Option<String>,
    /// A principal tag whose value names the principal's user profile.
    #[arg(long, value_name = "TAG")]
    profile_tag: Option<String>,
    /// Threads (default: every core; also RAYON_NUM_THREADS).
    #[arg(short = 'j', long, value_name = "N")]
    jobs: Option<usize>,
    /// Write a synthetic organisation of N principals as an authorization-details export, then exit.
    #[arg(long, value_name = "N")]
    generate: Option<usize>,
    /// The generator's seed.
    #[arg(long, value_name = "S", default_value_t = 1)]
    seed: u64,
    /// With --generate: one principal in fifty attaches a managed policy the export does not hold.
    #[arg(long)]
    dangling: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Table,
    Csv,
    Jsonl,
    Markdown,
}

/// The network presets bundled into the binary (those that read no feed file).
const PRESETS: [(&str, &str); 6] = [
    (
        "zscaler-only.json",
        include_str!("../../corpus/networks/zscaler-only.json"),
    ),
    ("vpn.json", include_str!("../../corpus/networks/vpn.json")),
    ("zpa.json", include_str!("../../corpus/networks/zpa.json")),
    (
        "console-corporate-nat.json",
        include_str!("../../corpus/networks/console-corporate-nat.json"),
    ),
    (
        "vpc-service-creates.json",
        include_str!("../../corpus/networks/vpc-service-creates.json"),
    ),
    (
        "workspaces-in-vpc.json",
        include_str!("../../corpus/networks/workspaces-in-vpc.json"),
    ),
];

/// The bundled organisation: corpus/whatif/example-org.json (`--generate 20 --seed 1`).
const EXAMPLE_ORG: &str = include_str!("../../corpus/whatif/example-org.json");

/// `iamgate` with no arguments: what-if on a bundled synthetic organisation and the network presets. Run from a
/// checkout (corpus/ holds the same files), it reads them there, so that its findings name files a user can open;
/// elsewhere it writes the bundled copies to a temporary folder and reads them from it.
pub(crate) fn run_default() -> Result<ExitCode, CliError> {
    let in_checkout = |rel: &str, text: &str| {
        let p = PathBuf::from(rel);
        std::fs::read_to_string(&p)
            .is_ok_and(|t| t == text)
            .then_some(p)
    };
    let checkout = in_checkout("corpus/whatif/example-org.json", EXAMPLE_ORG).and_then(|org| {
        let networks = PRESETS
            .iter()
            .map(|(name, text)| in_checkout(&format!("corpus/networks/{name}"), text))
            .collect::<Option<Vec<_>>>()?;
        Some((org, networks))
    });
    let (org, networks, temporary) = match checkout {
        Some((org, networks)) => (org, networks, None),
        None => {
            let dir = std::env::temp_dir().join(format!("iamgate-whatif-{}", std::process::id()));
            std::fs::create_dir_all(&dir).map_err(CliError::Write)?;
            let org = dir.join("example-org.json");
            std::fs::write(&org, EXAMPLE_ORG).map_err(CliError::Write)?;
            let mut networks = Vec::new();
            for (name, text) in PRESETS {
                let p = dir.join(name);
                std::fs::write(&p, text).map_err(CliError::Write)?;
                networks.push(p);
            }
            (org, networks, Some(dir))
        }
    };
    eprintln!(
        "iamgate: no command given; running `iamgate whatif` on the bundled example organisation (corpus/whatif/example-org.json, 20 principals) and {} network presets of corpus/networks (see `iamgate --help`, docs/whatif.md)",
        networks.len()
    );
    let code = run(Args {
        inputs: vec![org],
        networks,
        guardrail_kind: "scp".into(),
        format: "table".into(),
        seed: 1,
        ..Args::default()
    });
    if let Some(dir) = temporary {
        let _ = std::fs::remove_dir_all(dir);
    }
    code
}

/// The network files: each file given, and the `.json` files of each folder given, sorted and not recursed (a
/// folder of presets keeps its feeds in a subfolder, as corpus/networks/feeds/).
fn network_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let mut out = Vec::new();
    for p in paths {
        if !p.is_dir() {
            out.push(p.clone());
            continue;
        }
        let entries = std::fs::read_dir(p).map_err(|source| CliError::Read {
            path: p.display().to_string(),
            source,
        })?;
        let mut found: Vec<PathBuf> = entries
            .flatten()
            .map(|e| e.path())
            .filter(|f| f.is_file() && f.extension().is_some_and(|x| x == "json"))
            .collect();
        found.sort();
        out.extend(found);
    }
    Ok(out)
}

fn doc(path: &Path) -> Result<PolicyDoc, CliError> {
    let text = super::read(path)?;
    let s = path.display().to_string();
    Ok(PolicyDoc {
        name: s.as_str().into(),
        place: s.as_str().into(),
        text: text.into(),
    })
}

fn levels(levels: &[Level]) -> Result<Vec<Vec<PolicyDoc>>, CliError> {
    levels
        .iter()
        .map(|l| l.files.iter().map(|p| doc(p)).collect())
        .collect()
}

pub(crate) fn run(a: Args) -> Result<ExitCode, CliError> {
    if let Some(n) = a.generate {
        let mut out: Box<dyn Write> = match &a.out {
            Some(p) => Box::new(std::fs::File::create(p).map_err(CliError::Write)?),
            None => Box::new(std::io::stdout().lock()),
        };
        let mut w = BufWriter::new(&mut out);
        synth::write(n, a.seed, a.dangling, &mut w).map_err(CliError::Write)?;
        w.flush().map_err(CliError::Write)?;
        return Ok(ExitCode::SUCCESS);
    }
    let format = match a.format.as_str() {
        "table" => Format::Table,
        "csv" => Format::Csv,
        "jsonl" => Format::Jsonl,
        "markdown" => Format::Markdown,
        other => {
            return Err(CliError::Usage(format!(
                "unknown format `{other}`; valid formats are `table`, `csv`, `jsonl` and `markdown`"
            )));
        }
    };
    if a.inputs.is_empty() {
        return Err(CliError::Usage("no input: give policy files, folders, Case JSONL files or authorization-details exports".into()));
    }
    if a.networks.is_empty() {
        return Err(CliError::Usage("no network: give `--networks FILE...` (docs/network.md); the presets are in corpus/networks/".into()));
    }
    let shard: Option<Shard> = a
        .shard
        .as_deref()
        .map(str::parse)
        .transpose()
        .map_err(CliError::Usage)?;
    let mut networks = Vec::new();
    for p in network_files(&a.networks)? {
        let text = super::read(&p)?;
        match Network::parse(&text, p.parent()) {
            Ok(net) => networks.push(net),
            Err(e) => {
                // A network is not an input row: without it the matrix is not what was asked for.
                eprintln!(
                    "{}",
                    super::render::located(
                        &e.message,
                        &text,
                        &p.display().to_string(),
                        (e.line, e.column),
                        &e.path,
                        e.help.as_deref(),
                        super::render::colour(super::render::Stream::Stderr),
                    )
                );
                return Ok(ExitCode::from(2));
            }
        }
    }
    let guardrail = match &a.guardrail {
        Some(p) => Some(Guardrail {
            kind: a
                .guardrail_kind
                .parse::<GuardrailKind>()
                .map_err(CliError::Usage)?,
            doc: doc(p)?,
        }),
        None => None,
    };
    let opts = Options {
        scps: levels(&a.scps)?,
        rcps: levels(&a.rcps)?,
        guardrail,
        user_profile: a.user_profile.clone(),
        profile_tag: a.profile_tag.clone(),
    };
    let account = networks
        .first()
        .map_or_else(|| "000000000000".to_string(), |n| n.account.clone());
    let mut runner = Runner::new(networks, opts).map_err(CliError::Usage)?;
    let pool = {
        let mut b = rayon::ThreadPoolBuilder::new();
        if let Some(j) = a.jobs {
            b = b.num_threads(j);
        }
        b.build()
            .map_err(|e| CliError::Usage(format!("cannot start threads: {e}")))?
    };
    let out: Box<dyn Write + Send> = match &a.out {
        Some(p) => Box::new(std::fs::File::create(p).map_err(CliError::Write)?),
        None => Box::new(std::io::stdout()),
    };
    let mut w = Writer {
        out: BufWriter::with_capacity(1 << 16, out),
        format,
        guard: runner.has_guardrail(),
        names: runner.networks().map(|n| n.name.clone()).collect(),
        failed: None,
    };
    w.header();
    let mut summary = Summary::new(&runner);
    let progress = if std::io::stderr().is_terminal() {
        let p = indicatif::ProgressBar::new_spinner();
        p.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} {pos} principals decided in {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        Some(p)
    } else {
        None
    };
    let mut errors: Vec<InputError> = Vec::new();
    let files = inputs::files(&a.inputs, &mut errors);
    summary.inputs = files.len() + errors.len();
    for e in errors.drain(..) {
        if shard.is_none_or(|s| s.holds(&e.source)) {
            summary.errors += 1;
            w.error(&e);
        }
    }
    // A batch ends at BATCH principals or BATCH_BYTES of policy text, whichever comes first: parsed and
    // compiled policies take several times their text, and the caches are bounded between batches.
    const BATCH: usize = 2048;
    const BATCH_BYTES: usize = 1 << 20;
    let mut batch: Vec<Principal> = Vec::with_capacity(BATCH);
    let mut batch_bytes = 0usize;
    pool.install(|| {
        let flush = |batch: &mut Vec<Principal>,
                     runner: &mut Runner,
                     summary: &mut Summary,
                     w: &mut Writer| {
            let outcomes = runner.run_batch(std::mem::take(batch));
            for o in outcomes {
                match o {
                    Ok(rows) => {
                        summary.add(&rows, runner);
                        for r in &rows {
                            w.row(r);
                        }
                    }
                    Err(e) => {
                        summary.errors += 1;
                        w.error(&e);
                    }
                }
            }
            if let Some(p) = &progress {
                p.set_position(summary.principals as u64);
            }
        };
        for f in &files {
            inputs::read(f, &account, &mut |item| match item {
                // Once the output is closed (a reader such as `head` went away), decide nothing more.
                Item::Principal(_) | Item::Error(_) if w.failed.is_some() => {}
                Item::Principal(p) => {
                    if shard.is_none_or(|s| s.holds(&p.arn)) {
                        batch_bytes += p
                            .identity
                            .iter()
                            .chain(&p.boundary)
                            .map(|d| d.text.len())
                            .sum::<usize>();
                        batch.push(*p);
                        if batch.len() >= BATCH || batch_bytes >= BATCH_BYTES {
                            flush(&mut batch, &mut runner, &mut summary, &mut w);
                            batch_bytes = 0;
                        }
                    }
                }
                Item::Error(e) => {
                    if shard.is_none_or(|s| s.holds(&e.source)) {
                        summary.errors += 1;
                        w.error(&e);
                    }
                }
            });
        }
        flush(&mut batch, &mut runner, &mut summary, &mut w);
    });
    if let Some(p) = progress {
        p.finish_and_clear();
    }
    summary.finish(&runner);
    w.summary(&summary);
    w.out.flush().map_err(CliError::Write)?;
    if let Some(e) = w.failed {
        return Err(CliError::Write(e));
    }
    let count = super::lint::count;
    let totals = format!(
        "{}, {}, {}, {}",
        count(summary.inputs, "input", "inputs"),
        count(summary.principals, "principal", "principals"),
        count(summary.rows, "row", "rows"),
        count(summary.errors, "error", "errors")
    );
    if format != Format::Jsonl {
        eprintln!("whatif: {totals}");
    }
    Ok(if summary.errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

struct Writer {
    out: BufWriter<Box<dyn Write + Send>>,
    format: Format,
    guard: bool,
    names: Vec<String>,
    failed: Option<std::io::Error>,
}

fn deciding_text(d: &Option<Deciding>) -> String {
    match d {
        None => "-".into(),
        Some(d) => {
            let sid = d
                .sid
                .as_deref()
                .map(|s| format!(" ({s})"))
                .unwrap_or_default();
            match d.statement {
                Some(n) => format!(
                    "{}: {} by {} statement {n}{sid}",
                    d.step, d.effect, d.policy
                ),
                None => format!("{}: no statement in {} allows", d.step, d.policy),
            }
        }
    }
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// One row of the jsonl contract (docs/whatif.md).
#[derive(serde::Serialize)]
struct JsonRow<'a> {
    principal: &'a str,
    source: &'a str,
    network: &'a str,
    user_profile: &'a str,
    create: StepDecision,
    #[serde(rename = "use")]
    use_: StepDecision,
    verdict: Verdict,
    /// `{}` when nothing decided (a step unreachable): the contract's `deciding` is an object.
    #[serde(serialize_with = "object_or_empty")]
    deciding: &'a Option<Deciding>,
    #[serde(skip_serializing_if = "Option::is_none")]
    before: Option<&'a Cell>,
}

fn object_or_empty<S: serde::Serializer>(d: &&Option<Deciding>, s: S) -> Result<S::Ok, S::Error> {
    use serde::Serialize;
    match d {
        Some(d) => d.serialize(s),
        None => serde_json::Map::new().serialize(s),
    }
}

impl Writer {
    fn line(&mut self, s: &str) {
        if self.failed.is_none() {
            if let Err(e) = writeln!(self.out, "{s}") {
                self.failed = Some(e);
            }
        }
    }

    fn header(&mut self) {
        let cols = if self.guard {
            [
                "principal",
                "network",
                "create (before -> after)",
                "use (before -> after)",
                "verdict (before -> after)",
                "responsible statement",
            ]
        } else {
            [
                "principal",
                "network",
                "create",
                "use",
                "verdict",
                "deciding statement",
            ]
        };
        match self.format {
            Format::Table => {
                let s = format!(
                    "{:<52} {:<34} {:<14} {:<14} {:<14} {}",
                    cols[0], cols[1], cols[2], cols[3], cols[4], cols[5]
                );
                self.line(&s);
            }
            Format::Csv => {
                let s = "principal,source,network,user_profile,create,use,verdict,deciding_step,deciding_policy,deciding_sid,deciding_statement,before_create,before_use,before_verdict".to_string();
                self.line(&s);
            }
            Format::Markdown => {
                let s = format!("| {} |\n|---|---|---|---|---|---|", cols.join(" | "));
                self.line(&s);
            }
            Format::Jsonl => {}
        }
    }

    fn row(&mut self, r: &Row) {
        if let Some(b) = &r.before {
            if !b.differs(&r.now) {
                return;
            }
        }
        let net = self.names.get(r.network).cloned().unwrap_or_default();
        let pair = |before: Option<String>, now: String| match before {
            Some(b) => format!("{b} -> {now}"),
            None => now,
        };
        let b = r.before.as_ref();
        let create = pair(b.map(|c| c.create.to_string()), r.now.create.to_string());
        let use_ = pair(b.map(|c| c.use_.to_string()), r.now.use_.to_string());
        let verdict = pair(b.map(|c| c.verdict.to_string()), r.now.verdict.to_string());
        let deciding = deciding_text(&r.now.deciding);
        match self.format {
            Format::Table => {
                let s = format!(
                    "{:<52} {:<34} {:<14} {:<14} {:<14} {deciding}",
                    r.principal, net, create, use_, verdict
                );
                self.line(&s);
            }
            Format::Markdown => {
                let s = format!(
                    "| {} | {net} | {create} | {use_} | {verdict} | {} |",
                    r.principal,
                    deciding.replace('|', "\\|")
                );
                self.line(&s);
            }
            Format::Csv => {
                let d = r.now.deciding.as_ref();
                let fields = [
                    r.principal.to_string(),
                    r.source.to_string(),
                    net,
                    r.user_profile.clone(),
                    r.now.create.to_string(),
                    r.now.use_.to_string(),
                    r.now.verdict.to_string(),
                    d.map(|d| d.step.to_string()).unwrap_or_default(),
                    d.map(|d| d.policy.clone()).unwrap_or_default(),
                    d.and_then(|d| d.sid.clone()).unwrap_or_default(),
                    d.and_then(|d| d.statement)
                        .map(|n| n.to_string())
                        .unwrap_or_default(),
                    b.map(|c| c.create.to_string()).unwrap_or_default(),
                    b.map(|c| c.use_.to_string()).unwrap_or_default(),
                    b.map(|c| c.verdict.to_string()).unwrap_or_default(),
                ];
                let s = fields
                    .iter()
                    .map(|f| csv_field(f))
                    .collect::<Vec<_>>()
                    .join(",");
                self.line(&s);
            }
            Format::Jsonl => {
                let rec = JsonRow {
                    principal: &r.principal,
                    source: &r.source,
                    network: &net,
                    user_profile: &r.user_profile,
                    create: r.now.create,
                    use_: r.now.use_,
                    verdict: r.now.verdict,
                    deciding: &r.now.deciding,
                    before: b,
                };
                if self.failed.is_none() {
                    let res = serde_json::to_writer(&mut self.out, &rec)
                        .map_err(std::io::Error::from)
                        .and_then(|()| self.out.write_all(b"\n"));
                    if let Err(e) = res {
                        self.failed = Some(e);
                    }
                }
            }
        }
    }

    fn error(&mut self, e: &InputError) {
        match self.format {
            Format::Jsonl => {
                let s = serde_json::to_string(e).unwrap_or_default();
                self.line(&s);
            }
            Format::Csv => {
                eprintln!(
                    "error: {}: {} (line {}, column {}, {})",
                    e.source, e.error.message, e.error.line, e.error.column, e.error.path
                );
            }
            Format::Table | Format::Markdown => {
                let s = format!(
                    "error: {}: {} (line {}, column {}, {})",
                    e.source, e.error.message, e.error.line, e.error.column, e.error.path
                );
                self.line(&s);
            }
        }
    }

    fn summary(&mut self, s: &Summary) {
        if self.format == Format::Jsonl {
            for f in &s.findings {
                let v = serde_json::json!({ "finding": f });
                self.line(&v.to_string());
            }
            let v = serde_json::json!({ "summary": s });
            self.line(&v.to_string());
            return;
        }
        let mut text = String::new();
        let md = self.format == Format::Markdown;
        let h = |t: &str| {
            if md {
                format!("\n## {t}\n")
            } else {
                format!("\n{t}:")
            }
        };
        text.push_str(&h("Summary: rows per verdict and network"));
        for (net, counts) in &s.verdicts {
            let c: Vec<String> = counts.iter().map(|(v, n)| format!("{v} {n}")).collect();
            text.push_str(&format!(
                "\n{}{net}: {}",
                if md { "- " } else { "  " },
                if c.is_empty() {
                    "-".into()
                } else {
                    c.join(", ")
                }
            ));
        }
        let counted = |t: &mut String, title: &str, c: &crate::whatif::summary::Counted| {
            t.push_str(&format!(
                "\n{}{title}: {}",
                if md { "- " } else { "  " },
                c.count
            ));
            if !c.examples.is_empty() {
                t.push_str(&format!(" (for example {})", c.examples.join(", ")));
            }
        };
        counted(
            &mut text,
            "principals whose access differs between networks",
            &s.differs_between_networks,
        );
        counted(
            &mut text,
            "principals that can create from a shared Zscaler egress",
            &s.create_from_shared_egress,
        );
        counted(
            &mut text,
            "principals allowed to create on an SSO-mode domain (CreatePresignedDomainUrl is not the way in there)",
            &s.sso_domain_affected,
        );
        if let Some(g) = &s.guardrail {
            text.push_str(&h("Guardrail"));
            text.push_str(&format!(
                "\n{}rows changed: {}",
                if md { "- " } else { "  " },
                g.changed
            ));
            counted(&mut text, "rows it would lock out", &g.locked_out);
            counted(&mut text, "rows it would open", &g.opened);
            counted(&mut text, "rows it would still leave open", &g.still_open);
        }
        if !s.domain_limits.is_empty() {
            text.push_str(&h("Domain limits"));
            for d in &s.domain_limits {
                text.push_str(&format!(
                    "\n{}{}: {}",
                    if md { "- " } else { "  " },
                    d.code,
                    d.message
                ));
            }
        }
        if !s.findings.is_empty() {
            text.push_str(&h("Findings"));
            for f in &s.findings {
                let sev = match f.severity {
                    crate::diagnostic::Severity::Error => "error",
                    crate::diagnostic::Severity::Warning => "warning",
                };
                let at = f.place.as_deref().unwrap_or(&f.policy);
                text.push_str(&format!(
                    "\n{}{sev}[{}] on {} ({} rows): {}\n    --> {at}, line {}, column {}\n    help: {}",
                    if md { "- " } else { "  " },
                    f.code, f.network, f.rows, f.message, f.line, f.column, f.help
                ));
            }
        }
        if self.format == Format::Csv {
            eprintln!("{text}");
        } else {
            self.line(&text);
        }
    }
}
