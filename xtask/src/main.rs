//! Plumbline's build and test tasks, run as `cargo xtask <task>`.
//!
//! The site is built here directly instead of with cargo-leptos: installing cargo-leptos takes about
//! half an hour on our 2-core machines, while these few steps need only cargo, rustup and the
//! `wasm-bindgen-cli-support` crate. That crate must stay at exactly the version of `wasm-bindgen`
//! in Cargo.lock, or the generated glue does not match the wasm.
//!
//! Plain std and no argument parser: the flags are few, and every dependency of this crate is
//! compiled before any task can start.

use std::error::Error;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};
use std::{env, fs, thread};

use wasm_bindgen_cli_support::Bindgen;

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  serve [--release] [--addr HOST:PORT]  build the site, then run the server (default 127.0.0.1:3000)
  site [--release]                      build the site into target/site only
  test                                  fmt, clippy, tests on SQLite and PostgreSQL, browser test
  bench [ARGS]                          release build, then the benchmark harness: writes
                                        BENCHMARKS.md and bench/results.json (ARGS go to
                                        `plumbline-bench run`, e.g. --seconds 5 --connections 1,50)";

const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// Every native crate; `frontend` is checked for wasm on its own (see `test`).
const NATIVE_CLIPPY: [&str; 8] = [
    "clippy",
    "--workspace",
    "--exclude",
    "frontend",
    "--all-targets",
    "--",
    "-D",
    "warnings",
];
const NATIVE_TEST: [&str; 4] = ["test", "--workspace", "--exclude", "frontend"];
const CHROMIUM: &str = "/usr/bin/chromium";
/// Steps that `build_site` takes; the tasks add their own steps to this for the `[n/total]` lines.
const SITE_STEPS: usize = 4;

type Result<T = ()> = std::result::Result<T, Box<dyn Error>>;

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let (task, rest) = match args.split_first() {
        Some((task, rest)) => (task.as_str(), rest),
        None => ("", &[][..]),
    };
    match task {
        "serve" | "site" | "test" | "bench" => {}
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    }
    let mut steps = Steps::default();
    let result = Workspace::locate().and_then(|ws| match task {
        "serve" => serve(&ws, rest, &mut steps),
        "site" => site(&ws, rest, &mut steps),
        "bench" => bench(&ws, rest, &mut steps),
        _ if rest.is_empty() => test(&ws, &mut steps),
        _ => Err(format!("`test` takes no arguments\n\n{USAGE}").into()),
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("\nxtask {task}: FAILED at {}: {error}", steps.current());
            ExitCode::FAILURE
        }
    }
}

/// Where things are. Commands run from the workspace root, whatever directory xtask was started in.
struct Workspace {
    root: PathBuf,
    /// Cargo's build output: `CARGO_TARGET_DIR` if set (ours point it at a cache outside the clone).
    target: PathBuf,
    /// Always `<root>/target/site`, even when cargo builds elsewhere: the server and the
    /// cargo-leptos metadata in Cargo.toml both expect it there.
    site: PathBuf,
}

impl Workspace {
    fn locate() -> Result<Workspace> {
        // `cargo run` sets CARGO_MANIFEST_DIR at run time too; prefer it to the compile-time value,
        // which is stale when a fresh clone at another path shares a cached target directory.
        let manifest_dir = env::var_os("CARGO_MANIFEST_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
        let root = manifest_dir
            .parent()
            .ok_or("xtask's directory has no parent")?
            .to_path_buf();
        let target = match env::var_os("CARGO_TARGET_DIR").filter(|dir| !dir.is_empty()) {
            Some(dir) => {
                let absolute = env::current_dir()?.join(dir);
                // Children run from the root, so hand them the same directory, made absolute.
                env::set_var("CARGO_TARGET_DIR", &absolute);
                absolute
            }
            None => root.join("target"),
        };
        env::set_current_dir(&root)?;
        let site = root.join("target").join("site");
        Ok(Workspace { root, target, site })
    }
}

/// Prints `[n/total] step` lines, and remembers the step so a failure can name it.
#[derive(Default)]
struct Steps {
    done: usize,
    total: usize,
    name: String,
}

impl Steps {
    fn next(&mut self, name: &str) {
        self.done += 1;
        self.name = name.to_owned();
        println!("\n[{}/{}] {name}", self.done, self.total);
    }

    fn current(&self) -> String {
        if self.done == 0 {
            "start".to_owned()
        } else {
            format!("[{}/{}] {}", self.done, self.total, self.name)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Tasks

fn site(ws: &Workspace, args: &[String], steps: &mut Steps) -> Result {
    let release = match args {
        [] => false,
        [flag] if flag == "--release" => true,
        _ => return Err(format!("unknown arguments {args:?}\n\n{USAGE}").into()),
    };
    steps.total = SITE_STEPS;
    build_site(ws, release, steps)?;
    println!("\nsite ready in {}", ws.site.display());
    Ok(())
}

fn serve(ws: &Workspace, args: &[String], steps: &mut Steps) -> Result {
    let mut release = false;
    let mut addr = "127.0.0.1:3000".to_owned();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--release" => release = true,
            "--addr" => addr = args.next().ok_or("--addr needs HOST:PORT")?.clone(),
            other => return Err(format!("unknown argument {other:?}\n\n{USAGE}").into()),
        }
    }
    steps.total = SITE_STEPS + 1;
    build_site(ws, release, steps)?;

    steps.next("server");
    // The default database is sqlite://data/plumbline.db; SQLite creates the file, not the folder.
    if env::var_os("DATABASE_URL").is_none() {
        fs::create_dir_all(ws.root.join("data"))?;
    }
    let mut server = cargo(["run", "-p", "server", "--bin", "plumbline"]);
    if release {
        server.arg("--release");
    }
    server
        .args(["--", "serve", "--addr", &addr])
        .env("PLUMBLINE_SITE_ROOT", &ws.site);
    println!("(once built, the site is at http://{addr}/)");
    exec(server)
}

fn test(ws: &Workspace, steps: &mut Steps) -> Result {
    let postgres = env::var("TEST_DATABASE_URL").is_ok_and(|url| !url.trim().is_empty());
    steps.total = 2 + SITE_STEPS + 3;

    steps.next("rustfmt");
    run(&mut cargo(["fmt", "--all", "--check"]))?;

    // The `frontend` crate turns on Leptos's `hydrate` feature. Built together with the server,
    // cargo would unify features and the server would run with hydrate code paths (which panic
    // outside a browser), so the native checks leave it out and it is linted for wasm alone.
    steps.next("clippy");
    run(&mut cargo(NATIVE_CLIPPY))?;
    // A fresh machine has only the native target; the wasm lint needs the wasm one.
    ensure_wasm_target()?;
    run(&mut cargo([
        "clippy",
        "-p",
        "frontend",
        "--target",
        WASM_TARGET,
        "--",
        "-D",
        "warnings",
    ]))?;

    // The server's integration tests and the browser test both need the built assets.
    build_site(ws, false, steps)?;

    let mut total = Counts::default();

    steps.next("cargo test on SQLite");
    ensure_poppler()?;
    println!("backend: SQLite (TEST_DATABASE_URL removed for this run)");
    let mut sqlite = cargo(NATIVE_TEST);
    sqlite.env_remove("TEST_DATABASE_URL");
    total.add(run_cargo_test(&mut sqlite)?);

    steps.next("cargo test on PostgreSQL");
    if postgres {
        println!("backend: PostgreSQL (from TEST_DATABASE_URL)");
        total.add(run_cargo_test(&mut cargo(NATIVE_TEST))?);
    } else {
        println!("skipped: TEST_DATABASE_URL is not set");
    }

    steps.next("browser test (Playwright in Chromium)");
    total.add(browser_test(ws)?);

    // A plain closing line that CI can read whatever runners produced the numbers.
    println!("\n{} passed, {} failed", total.passed, total.failed);
    if total.failed > 0 {
        return Err("some tests failed".into());
    }
    Ok(())
}

/// The benchmark harness. Release builds only here: debug timings say nothing. The tools it
/// compares against are installed on first use, from Debian (wrk, Chromium, poppler, brotli,
/// nginx), crates.io (oha) and PyPI (WeasyPrint, in a virtualenv in the cache folder).
fn bench(ws: &Workspace, args: &[String], steps: &mut Steps) -> Result {
    steps.total = 2 + SITE_STEPS + 1;

    steps.next("tools: wrk, oha, Chromium, WeasyPrint, poppler, brotli, nginx");
    ensure_debian_packages("/usr/bin/wrk", &["wrk"])?;
    ensure_debian_packages("/usr/bin/brotli", &["brotli"])?;
    ensure_debian_packages("/usr/sbin/nginx", &["nginx"])?;
    ensure_poppler()?;
    ensure_chromium()?;
    let oha = ensure_oha()?;
    let weasyprint = ensure_weasyprint()?;
    if env::var_os("TEST_DATABASE_URL").is_some() {
        // The PostgreSQL probe's benchmark reads pg_stat_statements, as CI's tests do.
        run(Command::new("bash").arg(ws.root.join(".ci").join("postgres")))?;
    }

    steps.next("release build: server and harness");
    run(&mut cargo([
        "build",
        "--release",
        "-p",
        "server",
        "-p",
        "bench",
    ]))?;
    build_site(ws, true, steps)?;

    steps.next("plumbline-bench run");
    let release = ws.target.join("release");
    let mut harness = Command::new(release.join("plumbline-bench"));
    harness
        .arg("run")
        .arg("--plumbline")
        .arg(release.join("plumbline"))
        .arg("--site-root")
        .arg(&ws.site)
        .arg("--repo")
        .arg(&ws.root)
        .args(["--wrk", "/usr/bin/wrk", "--chromium", CHROMIUM])
        .arg("--oha")
        .arg(&oha)
        .arg("--weasyprint")
        .arg(&weasyprint)
        .arg("--command")
        .arg(
            std::iter::once("cargo xtask bench")
                .chain(args.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" "),
        )
        .args(args);
    run(&mut harness)
}

/// oha from crates.io, built once into cargo's bin folder (a few minutes the first time).
fn ensure_oha() -> Result<PathBuf> {
    let home = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .ok_or("neither CARGO_HOME nor HOME is set")?;
    let oha = home.join("bin").join("oha");
    if oha.exists() {
        println!("{} is installed", oha.display());
    } else {
        // Its own target folder: the install must not wait on the workspace build's lock.
        run(cargo(["install", "oha", "--locked"]).env_remove("CARGO_TARGET_DIR"))?;
    }
    Ok(oha)
}

/// WeasyPrint from PyPI in a virtualenv of its own, next to the build cache.
fn ensure_weasyprint() -> Result<PathBuf> {
    ensure_debian_packages(
        "/usr/lib/x86_64-linux-gnu/libpangoft2-1.0.so.0",
        &["libpango-1.0-0", "libpangoft2-1.0-0", "libharfbuzz-subset0"],
    )?;
    let home = env::var_os("HOME").ok_or("HOME is not set")?;
    let venv = PathBuf::from(home).join(".cache/plumbline/weasyprint-venv");
    let weasyprint = venv.join("bin").join("weasyprint");
    if weasyprint.exists() {
        println!("{} is installed", weasyprint.display());
        return Ok(weasyprint);
    }
    run(Command::new("python3").arg("-m").arg("venv").arg(&venv))?;
    run(Command::new(venv.join("bin").join("pip")).args(["install", "--quiet", "weasyprint"]))?;
    Ok(weasyprint)
}

// ---------------------------------------------------------------------------------------------
// The site: wasm build, wasm-bindgen, styles and public assets

fn build_site(ws: &Workspace, release: bool, steps: &mut Steps) -> Result {
    steps.next("wasm target");
    ensure_wasm_target()?;

    steps.next("frontend (wasm)");
    let mut build = cargo(["build", "-p", "frontend", "--lib", "--target", WASM_TARGET]);
    if release {
        build.args(["--profile", "wasm-release"]);
    }
    run(&mut build)?;
    let profile_dir = if release { "wasm-release" } else { "debug" };
    let wasm = ws
        .target
        .join(WASM_TARGET)
        .join(profile_dir)
        .join("frontend.wasm");

    steps.next("wasm-bindgen");
    let pkg = ws.site.join("pkg");
    // Start from an empty pkg/ so no stale snippet of an earlier build is ever served.
    if pkg.exists() {
        fs::remove_dir_all(&pkg)?;
    }
    fs::create_dir_all(&pkg)?;
    println!("{} -> {}", wasm.display(), pkg.display());
    // Leptos's HydrationScripts loads /pkg/plumbline.js, which loads /pkg/plumbline_bg.wasm.
    Bindgen::new()
        .input_path(&wasm)
        .out_name("plumbline")
        .typescript(false)
        // The name section only names functions for debuggers: 8 of the 14 MB of a release build.
        .remove_name_section(release)
        .web(true)
        .map_err(|e| format!("wasm-bindgen: {e:#}"))?
        .generate(&pkg)
        .map_err(|e| format!("wasm-bindgen on {}: {e:#}", wasm.display()))?;

    steps.next("stylesheet and public assets");
    // Plain CSS needs no processing; the page links it as /pkg/plumbline.css.
    let css = ws.root.join("style").join("main.css");
    if css.is_file() {
        copy_file(&css, &pkg.join("plumbline.css"))?;
        println!("style/main.css -> target/site/pkg/plumbline.css");
    } else {
        println!("warning: style/main.css is missing; the site has no stylesheet");
    }
    let copied = copy_dir(&ws.root.join("public"), &ws.site)?;
    println!("public/ -> target/site/ ({copied} files)");
    if release {
        precompress(&pkg)?;
    }
    Ok(())
}

/// Writes `.gz` (and `.br`, when brotli is installed) beside each file of `pkg/`: the server
/// sends those to browsers that accept them, so the wasm crosses the network compressed
/// without being compressed again on every request.
fn precompress(pkg: &Path) -> Result {
    let brotli = Path::new("/usr/bin/brotli").exists();
    for entry in fs::read_dir(pkg)? {
        let path = entry?.path();
        let compressible = matches!(
            path.extension().and_then(OsStr::to_str),
            Some("wasm" | "js" | "css")
        );
        if !compressible {
            continue;
        }
        run(Command::new("gzip").args(["-9", "-k", "-f"]).arg(&path))?;
        if brotli {
            run(Command::new("brotli")
                .args(["-q", "11", "-k", "-f"])
                .arg(&path))?;
        }
    }
    if !brotli {
        println!("brotli is not installed: only .gz copies were written");
    }
    Ok(())
}

fn ensure_wasm_target() -> Result {
    let mut list = Command::new("rustup");
    list.args(["target", "list", "--installed"]);
    show(&list);
    match list.output() {
        Ok(out) if out.status.success() => {
            let installed = String::from_utf8_lossy(&out.stdout)
                .lines()
                .any(|line| line.trim() == WASM_TARGET);
            if installed {
                println!("{WASM_TARGET} is installed");
                Ok(())
            } else {
                run(Command::new("rustup").args(["target", "add", WASM_TARGET]))
            }
        }
        // A toolchain without rustup: the wasm build below will say if the target is missing.
        _ => {
            println!("rustup is not available; assuming {WASM_TARGET} is installed");
            Ok(())
        }
    }
}

fn copy_file(from: &Path, to: &Path) -> Result {
    fs::copy(from, to)
        .map(drop)
        .map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()).into())
}

/// Copies a directory tree over another, returning the number of files copied.
fn copy_dir(from: &Path, to: &Path) -> Result<usize> {
    if !from.is_dir() {
        return Ok(0);
    }
    fs::create_dir_all(to)?;
    let mut copied = 0;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let dest = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copied += copy_dir(&entry.path(), &dest)?;
        } else {
            copy_file(&entry.path(), &dest)?;
            copied += 1;
        }
    }
    Ok(copied)
}

// ---------------------------------------------------------------------------------------------
// The browser test

fn browser_test(ws: &Workspace) -> Result<Counts> {
    ensure_chromium()?;

    let e2e = ws.root.join("end2end");
    let install = if e2e.join("package-lock.json").is_file() {
        "ci"
    } else {
        "install"
    };
    // Playwright must not fetch a browser of its own: we use Debian's Chromium, and nothing
    // outside the package registries can be downloaded on these machines.
    run(Command::new("npm")
        .arg(install)
        .current_dir(&e2e)
        .env("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
        .stdin(Stdio::null()))?;

    run(&mut cargo(["build", "-p", "server", "--bin", "plumbline"]))?;
    let binary = ws
        .target
        .join("debug")
        .join(format!("plumbline{}", env::consts::EXE_SUFFIX));

    // A fresh database and a free port for every run, so runs never see each other's data.
    let scratch = env::temp_dir().join(format!("plumbline-e2e-{}", std::process::id()));
    if scratch.exists() {
        fs::remove_dir_all(&scratch)?;
    }
    fs::create_dir_all(&scratch)?;
    let port = free_port()?;
    let url = format!("http://127.0.0.1:{port}");
    let log_path = scratch.join("server.log");
    let log = fs::File::create(&log_path)?;

    let mut command = Command::new(&binary);
    command
        .args(["serve", "--addr", &format!("127.0.0.1:{port}")])
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", scratch.join("e2e.db").display()),
        )
        .env("PLUMBLINE_SITE_ROOT", &ws.site)
        .env("PLUMBLINE_DATA_DIR", scratch.join("data"))
        // The browser tests probe Plumbline itself on loopback, which the guard refuses unless
        // the operator allows it; no warm-up keeps the run short.
        .env("PLUMBLINE_PROBE_ALLOW", "127.0.0.0/8, ::1")
        .env("PLUMBLINE_PROBE_WARMUP_SECS", "0")
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log);
    show(&command);
    println!("server log: {}", log_path.display());
    let mut server = Server(
        command
            .spawn()
            .map_err(|e| format!("could not start {}: {e}", binary.display()))?,
    );

    let outcome = wait_until_healthy(&mut server.0, port).and_then(|()| {
        let results = e2e.join("test-results").join("results.json");
        // A report left from an earlier run must not be counted as this one's.
        if results.exists() {
            fs::remove_file(&results)?;
        }
        run(Command::new("npx")
            .args(["playwright", "test"])
            .current_dir(&e2e)
            .env("PLUMBLINE_URL", &url)
            // The file mail transport's folder: tests read invitations from it.
            .env("PLUMBLINE_MAIL_DIR", scratch.join("data").join("outbox"))
            .stdin(Stdio::null()))?;
        let report = fs::read_to_string(&results)
            .map_err(|e| format!("reading {}: {e}", results.display()))?;
        playwright_counts(&report)
    });
    drop(server); // stop it before reporting, success or not

    match outcome {
        Ok(counts) => {
            // Keep the folder (log and database) only when something went wrong.
            fs::remove_dir_all(&scratch)?;
            Ok(counts)
        }
        Err(error) => {
            print_tail(&log_path, 40);
            println!("kept for inspection: {}", scratch.display());
            Err(error)
        }
    }
}

/// The server under test. Dropping it kills the process, so it is stopped on every path out.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ensure_chromium() -> Result {
    ensure_debian_packages(CHROMIUM, &["chromium", "chromium-driver"])
}

/// The report tests read PDFs with poppler's `pdftotext` and `pdffonts`.
fn ensure_poppler() -> Result {
    ensure_debian_packages("/usr/bin/pdftotext", &["poppler-utils"])
}

/// Installs `packages` with apt unless `probe` (a file they provide) is already there.
fn ensure_debian_packages(probe: &str, packages: &[&str]) -> Result {
    if Path::new(probe).exists() {
        println!("{probe} is installed");
        return Ok(());
    }
    let install = || {
        let mut apt = Command::new("apt-get");
        apt.arg("install")
            .arg("-y")
            .args(packages)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null());
        apt
    };
    if run(&mut install()).is_err() {
        // A fresh machine may have no package lists yet, or stale ones.
        run(Command::new("apt-get")
            .arg("update")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null()))?;
        run(&mut install())?;
    }
    Ok(())
}

/// Asks the OS for a free loopback port. Another process could take it before the server binds
/// it, but on a CI machine that is unlikely, and the health check would then fail clearly.
fn free_port() -> Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn wait_until_healthy(server: &mut Child, port: u16) -> Result {
    let deadline = Instant::now() + Duration::from_secs(60);
    println!("waiting for http://127.0.0.1:{port}/healthz (up to 60 s)");
    loop {
        if let Some(status) = server.try_wait()? {
            return Err(format!("the server exited before answering /healthz ({status})").into());
        }
        if healthz_ok(port) {
            println!("server is up");
            return Ok(());
        }
        if Instant::now() >= deadline {
            return Err("the server did not answer /healthz with 200 within 60 s".into());
        }
        thread::sleep(Duration::from_millis(250));
    }
}

/// One plain HTTP/1.1 request; a std socket is enough and adds no dependency.
fn healthz_ok(port: u16) -> bool {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_secs(1)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request =
        format!("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n");
    let mut status_line = [0u8; 12]; // "HTTP/1.1 200"
    stream.write_all(request.as_bytes()).is_ok()
        && stream.read_exact(&mut status_line).is_ok()
        && status_line.starts_with(b"HTTP/1.")
        && status_line.ends_with(b" 200")
}

fn print_tail(path: &Path, lines: usize) {
    let Ok(text) = fs::read_to_string(path) else {
        return;
    };
    let all: Vec<&str> = text.lines().collect();
    println!("--- last lines of {} ---", path.display());
    for line in &all[all.len().saturating_sub(lines)..] {
        println!("{line}");
    }
    println!("---");
}

/// Reads `stats.expected` and `stats.unexpected` from Playwright's JSON report. `stats` is the
/// report's last top-level key and holds plain integers, so a small search is enough.
fn playwright_counts(report: &str) -> Result<Counts> {
    let stats = report
        .rfind("\"stats\"")
        .map(|at| &report[at..])
        .ok_or("Playwright's JSON report has no \"stats\"")?;
    let number = |key: &str| -> Result<u64> {
        let quoted = format!("\"{key}\"");
        let at = stats
            .find(&quoted)
            .ok_or_else(|| format!("no {quoted} in Playwright's stats"))?;
        let value = stats[at + quoted.len()..]
            .trim_start()
            .strip_prefix(':')
            .ok_or_else(|| format!("no value for {quoted} in Playwright's stats"))?
            .trim_start();
        let digits: String = value.chars().take_while(char::is_ascii_digit).collect();
        Ok(digits.parse()?)
    };
    // A test that failed once and passed on its retry is "flaky": it counts as passed, and is
    // named in the output so it is not forgotten (see the page-stall note in docs/adr/0006).
    let flaky = number("flaky")?;
    let counts = Counts {
        passed: number("expected")? + flaky,
        failed: number("unexpected")?,
    };
    println!(
        "Playwright: {} passed, {} failed ({flaky} passed only on retry)",
        counts.passed, counts.failed
    );
    if counts.passed + counts.failed == 0 {
        return Err("Playwright ran no test".into());
    }
    Ok(counts)
}

// ---------------------------------------------------------------------------------------------
// Running commands

#[derive(Default, Clone, Copy)]
struct Counts {
    passed: u64,
    failed: u64,
}

impl Counts {
    fn add(&mut self, other: Counts) {
        self.passed += other.passed;
        self.failed += other.failed;
    }

    /// Adds the numbers of a libtest summary: `test result: ok. 12 passed; 0 failed; 1 ignored; ...`.
    fn add_libtest_line(&mut self, line: &str) {
        let Some(rest) = line.trim_start().strip_prefix("test result:") else {
            return;
        };
        let words: Vec<&str> = rest.split_whitespace().collect();
        for pair in words.windows(2) {
            let [number, word] = pair else { continue };
            let Ok(n) = number.parse::<u64>() else {
                continue;
            };
            match word.trim_end_matches([';', ',', '.']) {
                "passed" => self.passed += n,
                "failed" => self.failed += n,
                _ => {}
            }
        }
    }
}

fn cargo<const N: usize>(args: [&str; N]) -> Command {
    let mut command = Command::new("cargo");
    command.args(args);
    command
}

/// Runs a command after printing it; a non-zero exit is an error that names the command.
fn run(command: &mut Command) -> Result {
    show(command);
    let status = command
        .status()
        .map_err(|e| format!("could not start `{}`: {e}", display(command)))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("`{}` exited with {status}", display(command)).into())
    }
}

/// Runs `cargo test`, echoing its stdout line by line while adding up its `test result:` lines.
fn run_cargo_test(command: &mut Command) -> Result<Counts> {
    show(command);
    let mut child = command
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not start `{}`: {e}", display(command)))?;
    let mut counts = Counts::default();
    let mut reader = BufReader::new(child.stdout.take().ok_or("no stdout from cargo test")?);
    let mut out = io::stdout();
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line)? > 0 {
        out.write_all(&line)?;
        out.flush()?;
        counts.add_libtest_line(&String::from_utf8_lossy(&line));
        line.clear();
    }
    let status = child.wait()?;
    if !status.success() {
        return Err(format!("`{}` exited with {status}", display(command)).into());
    }
    println!(
        "this run: {} passed, {} failed",
        counts.passed, counts.failed
    );
    Ok(counts)
}

/// Replaces xtask with the command, so Ctrl-C and the exit status belong to the server alone.
#[cfg(unix)]
fn exec(mut command: Command) -> Result {
    use std::os::unix::process::CommandExt;
    show(&command);
    let error = command.exec(); // returns only if it could not start
    Err(format!("could not start `{}`: {error}", display(&command)).into())
}

#[cfg(not(unix))]
fn exec(mut command: Command) -> Result {
    run(&mut command)
}

fn show(command: &Command) {
    println!("$ {}", display(command));
}

/// The command as a line one could paste into a shell.
fn display(command: &Command) -> String {
    let mut line = String::new();
    if let Some(dir) = command.get_current_dir() {
        let cwd = env::current_dir().unwrap_or_default();
        let dir = dir.strip_prefix(&cwd).unwrap_or(dir);
        let _ = write!(line, "cd {} && ", quote(dir.as_os_str()));
    }
    let envs: Vec<_> = command.get_envs().collect();
    if envs.iter().any(|(_, value)| value.is_none()) {
        line.push_str("env ");
    }
    for (key, value) in &envs {
        let key = key.to_string_lossy();
        let _ = match value {
            Some(value) => write!(line, "{key}={} ", quote(value)),
            None => write!(line, "-u {key} "),
        };
    }
    line.push_str(&quote(command.get_program()));
    for arg in command.get_args() {
        line.push(' ');
        line.push_str(&quote(arg));
    }
    line
}

fn quote(text: &OsStr) -> String {
    let text = text.to_string_lossy();
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c));
    if plain {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_libtest_summaries() {
        let mut counts = Counts::default();
        counts.add_libtest_line(
            "test result: ok. 12 passed; 0 failed; 1 ignored; 0 measured; 0 filtered out",
        );
        counts.add_libtest_line("test result: FAILED. 3 passed; 2 failed; 0 ignored");
        counts.add_libtest_line("running 5 tests");
        assert_eq!((counts.passed, counts.failed), (15, 2));
    }

    #[test]
    fn reads_playwright_stats() -> Result {
        let report = r#"{"suites":[{"specs":[{"tests":[{"expectedStatus":"passed"}]}]}],
            "errors":[],"stats":{"startTime":"2026-01-01T00:00:00Z","duration":1.5,
            "expected": 3,"skipped":0,"unexpected":1,"flaky":0}}"#;
        let counts = playwright_counts(report)?;
        assert_eq!((counts.passed, counts.failed), (3, 1));
        Ok(())
    }

    #[test]
    fn health_check_wants_a_200() -> Result {
        for (response, healthy) in [("HTTP/1.1 200 OK", true), ("HTTP/1.1 503 Busy", false)] {
            let listener = TcpListener::bind("127.0.0.1:0")?;
            let port = listener.local_addr()?.port();
            let server = thread::spawn(move || -> io::Result<()> {
                let (mut stream, _) = listener.accept()?;
                let mut request = [0u8; 1024];
                let _ = stream.read(&mut request)?;
                stream.write_all(format!("{response}\r\ncontent-length: 0\r\n\r\n").as_bytes())
            });
            assert_eq!(healthz_ok(port), healthy);
            server.join().map_err(|_| "server thread panicked")??;
        }
        Ok(())
    }

    #[test]
    fn shows_commands_as_shell_lines() {
        let mut command = Command::new("cargo");
        command
            .args(["test", "--workspace"])
            .env_remove("TEST_DATABASE_URL");
        assert_eq!(
            display(&command),
            "env -u TEST_DATABASE_URL cargo test --workspace"
        );
        assert_eq!(quote(OsStr::new("it's")), r"'it'\''s'");
    }
}
