//! The child processes of end-to-end tests: each in its own process group,
//! so that stopping it also stops whatever it started (emulators, `cargo`,
//! the app under `nubes dev`), even when the test fails half-way.

use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// How often [`wait_exit`] looks at the child.
const POLL: Duration = Duration::from_millis(5);

/// A child leading its own process group; the whole group gets SIGKILL when
/// this is dropped.
#[derive(Debug)]
pub struct Group(Child);

impl Group {
    /// Spawns `command` as the leader of a new process group (its stdio is
    /// left as `command` sets it).
    ///
    /// # Panics
    ///
    /// When the program cannot be started.
    pub fn spawn(command: &mut Command) -> Group {
        let child = command
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", command.get_program()));
        Group(child)
    }

    /// The leader's process id, which is also the group's id.
    pub fn id(&self) -> u32 {
        self.0.id()
    }

    /// The leader, to signal or wait for it.
    pub fn child(&mut self) -> &mut Child {
        &mut self.0
    }

    /// Stops the leader as a platform does: [`sigterm`], then its exit
    /// status once it has exited by itself.
    ///
    /// # Panics
    ///
    /// When it still runs after `within` (or cannot be signalled).
    pub fn terminate(&mut self, within: Duration) -> ExitStatus {
        sigterm(&self.0);
        wait_exit(&mut self.0, within).unwrap_or_else(|| {
            panic!(
                "process {} did not exit within {within:?} after SIGTERM",
                self.0.id()
            )
        })
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        // `--` so that `-PGID` (the whole group) is not read as an option.
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends SIGTERM to `child` alone (not its group), as a platform does when
/// it stops an instance.
///
/// # Panics
///
/// When `kill` fails, e.g. because the child has already been reaped.
pub fn sigterm(child: &Child) {
    let pid = child.id().to_string();
    let sent = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap_or_else(|e| panic!("cannot run kill: {e}"));
    assert!(sent.success(), "kill -TERM {pid} failed: {sent}");
}

/// `child`'s exit status once it has exited, or `None` if it still runs
/// after `within`.
///
/// # Panics
///
/// When the child's status cannot be read.
pub fn wait_exit(child: &mut Child, within: Duration) -> Option<ExitStatus> {
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) if started.elapsed() >= within => return None,
            Ok(None) => std::thread::sleep(POLL),
            Err(e) => panic!("cannot wait for process {}: {e}", child.id()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether process `pid` is alive: a zombie is dead already (its reaper
    /// may be slow, or absent in a container without an init).
    fn alive(pid: &str) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| Some(stat.get(stat.rfind(')')? + 2..)?.starts_with('Z')))
            .is_some_and(|zombie| !zombie)
    }

    #[test]
    fn dropping_a_group_kills_what_its_leader_started() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let pid_file = dir.path().join("grandchild.pid");
        let group = Group::spawn(
            Command::new("sh")
                .arg("-c")
                .arg(format!("sleep 60 & echo $! > {}; wait", pid_file.display()))
                .stdout(Stdio::null()),
        );
        let started = Instant::now();
        let grandchild = loop {
            let text = std::fs::read_to_string(&pid_file).unwrap_or_default();
            if text.ends_with('\n') {
                break text.trim().to_owned();
            }
            assert!(started.elapsed() < Duration::from_secs(10), "no grandchild");
            std::thread::sleep(POLL);
        };
        assert!(alive(&grandchild));
        drop(group);
        let started = Instant::now();
        while alive(&grandchild) {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "the grandchild survived its group"
            );
            std::thread::sleep(POLL);
        }
    }

    #[test]
    fn terminate_returns_the_exit_status_after_sigterm() {
        let mut group = Group::spawn(
            Command::new("sh")
                .args([
                    "-c",
                    "trap 'exit 3' TERM; echo trapped; while true; do sleep 0.01; done",
                ])
                .stdout(Stdio::piped()),
        );
        // SIGTERM only once `sh` says its trap is installed.
        let mut line = String::new();
        if let Some(stdout) = group.child().stdout.take() {
            let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line);
        }
        assert_eq!(line, "trapped\n");
        let status = group.terminate(Duration::from_secs(10));
        assert_eq!(status.code(), Some(3));
    }

    #[test]
    fn wait_exit_gives_up_on_a_process_that_keeps_running() {
        let mut group = Group::spawn(Command::new("sleep").arg("60"));
        assert_eq!(wait_exit(group.child(), Duration::from_millis(50)), None);
    }
}
