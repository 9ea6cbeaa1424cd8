//! The write connection's VFS: SQLite's own, with the WAL's writes gathered.
//!
//! A commit writes every page it changed to the WAL as a frame, and SQLite writes each frame
//! with two `pwrite` calls (its 24-byte header, then the page), each going through the
//! kernel's whole buffered-write path. A create changes about seven pages, so a batch of 30
//! creates made some 400 system calls before its flush: about a quarter of the writer
//! thread's time (BENCHMARKS.md). This VFS hands SQLite the default VFS's files unchanged,
//! except that writes to a WAL file that continue one another are gathered in memory and
//! reach the file in writes of 64 KiB before anything else touches it: before the flush
//! that makes a commit durable, before a read, a truncation, a size query or a close.
//!
//! What is on disk when a commit is acknowledged does not change: every byte SQLite wrote
//! is in the file before its `fdatasync`. Nor does what readers see: they read frames only
//! once the commit has published them in the WAL index, which SQLite does after the flush.
//! That second point holds only when every commit flushes (`synchronous=FULL`) and SQLite
//! does not pad the WAL to sector boundaries (it writes padding after the flush; SQLite on
//! Linux does not pad unless told the disk lacks "powersafe overwrite"): the writer uses this
//! VFS only with `durability = "full"`, and a WAL opened without that property is passed
//! through ungathered.
//!
//! The one visible difference: an error writing the WAL (a full disk) is reported by the
//! commit's flush instead of the write itself; the commit fails either way, and SQLite
//! never publishes its frames.
//!
//! Every method delegates to the default VFS's file, whose methods are all present (its
//! files are version 3, which [`open`] checks), so the `expect`s on them cannot fire.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::ptr;
use std::sync::OnceLock;

use rusqlite::ffi;

/// The name the write connection opens its database with.
pub const NAME: &CStr = c"nsx-policy-store-gathered-wal";

/// Gathered writes are written out once they reach this size, even before a flush.
const GATHER_LIMIT: usize = 4 << 20;

/// The most the default VFS writes in one call: it takes sizes below 128 KiB only.
const WRITE_LIMIT: usize = 64 << 10;

/// Registers the VFS with SQLite (once per process) and returns its name.
pub fn register() -> Result<&'static str, String> {
    static REGISTERED: OnceLock<Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| unsafe { register_once() })
        .clone()?;
    Ok(NAME.to_str().expect("the VFS name is ASCII"))
}

unsafe fn register_once() -> Result<(), String> {
    let underlying = ffi::sqlite3_vfs_find(ptr::null());
    if underlying.is_null() {
        return Err("SQLite has no default VFS".into());
    }
    let vfs = Box::new(ffi::sqlite3_vfs {
        iVersion: 2,
        szOsFile: (size_of::<File>() + (*underlying).szOsFile as usize) as c_int,
        mxPathname: (*underlying).mxPathname,
        pNext: ptr::null_mut(),
        zName: NAME.as_ptr(),
        pAppData: underlying.cast(),
        xOpen: Some(open),
        xDelete: Some(delete),
        xAccess: Some(access),
        xFullPathname: Some(full_pathname),
        xDlOpen: Some(dl_open),
        xDlError: Some(dl_error),
        xDlSym: Some(dl_sym),
        xDlClose: Some(dl_close),
        xRandomness: Some(randomness),
        xSleep: Some(sleep),
        xCurrentTime: Some(current_time),
        xGetLastError: Some(get_last_error),
        xCurrentTimeInt64: Some(current_time_int64),
        xSetSystemCall: None,
        xGetSystemCall: None,
        xNextSystemCall: None,
    });
    // SQLite keeps the pointer for the life of the process.
    let rc = ffi::sqlite3_vfs_register(Box::leak(vfs), 0);
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(format!("SQLite refused the VFS (error {rc})"))
    }
}

/// What SQLite allocates for each open file (`szOsFile` bytes): this header, then the
/// default VFS's own file object.
#[repr(C)]
struct File {
    /// SQLite's view of the file; its `pMethods` are [`METHODS`].
    base: ffi::sqlite3_file,
    /// The writes being gathered, for a WAL file; null for every other file.
    gathered: *mut Gathered,
}

/// Contiguous bytes written to the WAL and not yet handed to the file.
struct Gathered {
    offset: i64,
    bytes: Vec<u8>,
}

/// The default VFS's file object, which follows our header.
unsafe fn inner(file: *mut ffi::sqlite3_file) -> *mut ffi::sqlite3_file {
    file.cast::<u8>().add(size_of::<File>()).cast()
}

unsafe fn inner_methods(file: *mut ffi::sqlite3_file) -> &'static ffi::sqlite3_io_methods {
    &*(*inner(file)).pMethods
}

unsafe fn underlying(vfs: *mut ffi::sqlite3_vfs) -> *mut ffi::sqlite3_vfs {
    (*vfs).pAppData.cast()
}

/// Calls the default VFS's method with the default VFS's object (its `xOpen` reads its own
/// settings from that object).
macro_rules! in_underlying {
    ($vfs:ident, $method:ident ( $($arg:expr),* )) => {{
        let vfs = underlying($vfs);
        ((*vfs).$method.expect(stringify!($method)))(vfs $(, $arg)*)
    }};
}

/// Writes out what was gathered, if the file gathers writes.
unsafe fn write_gathered(file: *mut ffi::sqlite3_file) -> c_int {
    match (*file.cast::<File>()).gathered.as_mut() {
        Some(gathered) => write_out(file, gathered),
        None => ffi::SQLITE_OK,
    }
}

/// Hands the gathered bytes to the file, in as few writes as the default VFS takes. After a
/// failure they are dropped: SQLite fails the transaction that wrote them.
unsafe fn write_out(file: *mut ffi::sqlite3_file, gathered: &mut Gathered) -> c_int {
    let write = inner_methods(file).xWrite.expect("xWrite");
    let mut offset = gathered.offset;
    let mut rc = ffi::SQLITE_OK;
    for chunk in gathered.bytes.chunks(WRITE_LIMIT) {
        rc = write(
            inner(file),
            chunk.as_ptr().cast(),
            chunk.len() as c_int,
            offset,
        );
        if rc != ffi::SQLITE_OK {
            break;
        }
        offset += chunk.len() as i64;
    }
    gathered.bytes.clear();
    rc
}

// --- Files ------------------------------------------------------------------------------

unsafe extern "C" fn open(
    vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let header = file.cast::<File>();
    (*header).base.pMethods = ptr::null();
    (*header).gathered = ptr::null_mut();
    let inner = inner(file);
    let rc = in_underlying!(vfs, xOpen(name, inner, flags, out_flags));
    if rc != ffi::SQLITE_OK || (*inner).pMethods.is_null() {
        return rc;
    }
    if (*(*inner).pMethods).iVersion < METHODS.iVersion {
        // A file without every method this VFS passes on (shared memory, memory mapping):
        // refuse it rather than call what is not there.
        ((*(*inner).pMethods).xClose.expect("xClose"))(inner);
        return ffi::SQLITE_CANTOPEN;
    }
    let device = ((*(*inner).pMethods)
        .xDeviceCharacteristics
        .expect("xDeviceCharacteristics"))(inner);
    if flags & ffi::SQLITE_OPEN_WAL != 0 && device & ffi::SQLITE_IOCAP_POWERSAFE_OVERWRITE != 0 {
        (*header).gathered = Box::into_raw(Box::new(Gathered {
            offset: 0,
            bytes: Vec::new(),
        }));
    }
    (*header).base.pMethods = &METHODS;
    rc
}

static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(close),
    xRead: Some(read),
    xWrite: Some(write),
    xTruncate: Some(truncate),
    xSync: Some(sync),
    xFileSize: Some(file_size),
    xLock: Some(lock),
    xUnlock: Some(unlock),
    xCheckReservedLock: Some(check_reserved_lock),
    xFileControl: Some(file_control),
    xSectorSize: Some(sector_size),
    xDeviceCharacteristics: Some(device_characteristics),
    xShmMap: Some(shm_map),
    xShmLock: Some(shm_lock),
    xShmBarrier: Some(shm_barrier),
    xShmUnmap: Some(shm_unmap),
    xFetch: Some(fetch),
    xUnfetch: Some(unfetch),
};

unsafe extern "C" fn write(
    file: *mut ffi::sqlite3_file,
    data: *const c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    let Some(gathered) = (*file.cast::<File>()).gathered.as_mut() else {
        return (inner_methods(file).xWrite.expect("xWrite"))(inner(file), data, amount, offset);
    };
    let amount = amount as usize;
    let continues = offset == gathered.offset + gathered.bytes.len() as i64;
    if !gathered.bytes.is_empty() && (!continues || gathered.bytes.len() + amount > GATHER_LIMIT) {
        let rc = write_out(file, gathered);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
    }
    if gathered.bytes.is_empty() {
        gathered.offset = offset;
    }
    gathered
        .bytes
        .extend_from_slice(std::slice::from_raw_parts(data.cast::<u8>(), amount));
    ffi::SQLITE_OK
}

unsafe extern "C" fn close(file: *mut ffi::sqlite3_file) -> c_int {
    let written = write_gathered(file);
    let header = file.cast::<File>();
    if !(*header).gathered.is_null() {
        drop(Box::from_raw((*header).gathered));
        (*header).gathered = ptr::null_mut();
    }
    let closed = (inner_methods(file).xClose.expect("xClose"))(inner(file));
    if written != ffi::SQLITE_OK {
        written
    } else {
        closed
    }
}

/// Every other method writes out what was gathered first, so it sees the file SQLite wrote.
macro_rules! after_gathered {
    ($file:ident, $method:ident ( $($arg:expr),* )) => {{
        let rc = write_gathered($file);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        (inner_methods($file).$method.expect(stringify!($method)))(inner($file) $(, $arg)*)
    }};
}

unsafe extern "C" fn read(
    file: *mut ffi::sqlite3_file,
    data: *mut c_void,
    amount: c_int,
    offset: i64,
) -> c_int {
    after_gathered!(file, xRead(data, amount, offset))
}

unsafe extern "C" fn truncate(file: *mut ffi::sqlite3_file, size: i64) -> c_int {
    after_gathered!(file, xTruncate(size))
}

unsafe extern "C" fn sync(file: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    after_gathered!(file, xSync(flags))
}

unsafe extern "C" fn file_size(file: *mut ffi::sqlite3_file, size: *mut i64) -> c_int {
    after_gathered!(file, xFileSize(size))
}

unsafe extern "C" fn lock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    after_gathered!(file, xLock(level))
}

unsafe extern "C" fn unlock(file: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    after_gathered!(file, xUnlock(level))
}

unsafe extern "C" fn check_reserved_lock(file: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    after_gathered!(file, xCheckReservedLock(out))
}

unsafe extern "C" fn file_control(
    file: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    after_gathered!(file, xFileControl(op, arg))
}

unsafe extern "C" fn shm_map(
    file: *mut ffi::sqlite3_file,
    page: c_int,
    page_size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    after_gathered!(file, xShmMap(page, page_size, extend, out))
}

unsafe extern "C" fn shm_lock(
    file: *mut ffi::sqlite3_file,
    offset: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    after_gathered!(file, xShmLock(offset, n, flags))
}

unsafe extern "C" fn shm_unmap(file: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    after_gathered!(file, xShmUnmap(delete))
}

unsafe extern "C" fn fetch(
    file: *mut ffi::sqlite3_file,
    offset: i64,
    amount: c_int,
    out: *mut *mut c_void,
) -> c_int {
    after_gathered!(file, xFetch(offset, amount, out))
}

unsafe extern "C" fn unfetch(
    file: *mut ffi::sqlite3_file,
    offset: i64,
    page: *mut c_void,
) -> c_int {
    after_gathered!(file, xUnfetch(offset, page))
}

// Queries that do not depend on the file's contents, and the barrier (which only the
// database file's shared memory receives), go straight through.

unsafe extern "C" fn sector_size(file: *mut ffi::sqlite3_file) -> c_int {
    (inner_methods(file).xSectorSize.expect("xSectorSize"))(inner(file))
}

unsafe extern "C" fn device_characteristics(file: *mut ffi::sqlite3_file) -> c_int {
    (inner_methods(file)
        .xDeviceCharacteristics
        .expect("xDeviceCharacteristics"))(inner(file))
}

unsafe extern "C" fn shm_barrier(file: *mut ffi::sqlite3_file) {
    (inner_methods(file).xShmBarrier.expect("xShmBarrier"))(inner(file))
}

// --- The VFS itself: the default VFS's, called with its own object ---------------------

unsafe extern "C" fn delete(
    vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    sync_dir: c_int,
) -> c_int {
    in_underlying!(vfs, xDelete(name, sync_dir))
}

unsafe extern "C" fn access(
    vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    flags: c_int,
    out: *mut c_int,
) -> c_int {
    in_underlying!(vfs, xAccess(name, flags, out))
}

unsafe extern "C" fn full_pathname(
    vfs: *mut ffi::sqlite3_vfs,
    name: *const c_char,
    size: c_int,
    out: *mut c_char,
) -> c_int {
    in_underlying!(vfs, xFullPathname(name, size, out))
}

unsafe extern "C" fn dl_open(vfs: *mut ffi::sqlite3_vfs, name: *const c_char) -> *mut c_void {
    in_underlying!(vfs, xDlOpen(name))
}

unsafe extern "C" fn dl_error(vfs: *mut ffi::sqlite3_vfs, size: c_int, out: *mut c_char) {
    in_underlying!(vfs, xDlError(size, out))
}

unsafe extern "C" fn dl_sym(
    vfs: *mut ffi::sqlite3_vfs,
    handle: *mut c_void,
    symbol: *const c_char,
) -> Option<unsafe extern "C" fn(*mut ffi::sqlite3_vfs, *mut c_void, *const c_char)> {
    in_underlying!(vfs, xDlSym(handle, symbol))
}

unsafe extern "C" fn dl_close(vfs: *mut ffi::sqlite3_vfs, handle: *mut c_void) {
    in_underlying!(vfs, xDlClose(handle))
}

unsafe extern "C" fn randomness(
    vfs: *mut ffi::sqlite3_vfs,
    size: c_int,
    out: *mut c_char,
) -> c_int {
    in_underlying!(vfs, xRandomness(size, out))
}

unsafe extern "C" fn sleep(vfs: *mut ffi::sqlite3_vfs, microseconds: c_int) -> c_int {
    in_underlying!(vfs, xSleep(microseconds))
}

unsafe extern "C" fn current_time(vfs: *mut ffi::sqlite3_vfs, out: *mut f64) -> c_int {
    in_underlying!(vfs, xCurrentTime(out))
}

unsafe extern "C" fn get_last_error(
    vfs: *mut ffi::sqlite3_vfs,
    size: c_int,
    out: *mut c_char,
) -> c_int {
    in_underlying!(vfs, xGetLastError(size, out))
}

unsafe extern "C" fn current_time_int64(vfs: *mut ffi::sqlite3_vfs, out: *mut i64) -> c_int {
    in_underlying!(vfs, xCurrentTimeInt64(out))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use rusqlite::{Connection, OpenFlags};

    use super::*;

    /// A connection as the writer opens it: through this VFS, in WAL mode, flushing every
    /// commit, with a page cache small enough that a large transaction spills pages into the
    /// WAL (and reads them back) before it commits.
    fn open_gathering(path: &Path) -> Connection {
        let conn =
            Connection::open_with_flags_and_vfs(path, OpenFlags::default(), register().unwrap())
                .unwrap();
        conn.pragma_update(None, "journal_mode", "WAL").unwrap();
        conn.pragma_update(None, "synchronous", "FULL").unwrap();
        conn.pragma_update(None, "cache_size", 64).unwrap();
        conn.pragma_update(None, "wal_autocheckpoint", 0).unwrap();
        conn
    }

    fn rows(conn: &Connection) -> (i64, i64) {
        conn.query_row(
            "SELECT count(*), coalesce(sum(length(data)), 0) FROM t",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap()
    }

    /// Commits of one row, of a few hundred pages, and of more than the gathering limit (with
    /// pages spilled to the WAL mid-transaction): when each commit returns, the files on
    /// disk hold it (a copy of them, as a crash would leave them, opens with every row and
    /// passes SQLite's integrity check), and a connection on SQLite's own VFS reads it.
    #[test]
    fn every_commit_is_in_the_files_when_it_returns() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gathered.db");
        let mut conn = open_gathering(&path);
        conn.execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY, data BLOB NOT NULL)")
            .unwrap();
        let reader = Connection::open(&path).unwrap();

        let mut expected = (0, 0);
        for (round, (count, size)) in [(1, 100), (300, 3000), (2500, 3000), (1, 100)]
            .into_iter()
            .enumerate()
        {
            let tx = conn.transaction().unwrap();
            for _ in 0..count {
                tx.execute("INSERT INTO t (data) VALUES (randomblob(?1))", [size])
                    .unwrap();
            }
            tx.commit().unwrap();
            expected = (expected.0 + count, expected.1 + count * size);

            assert_eq!(
                rows(&reader),
                expected,
                "round {round}: the reader sees the commit"
            );

            let copy = dir.path().join(format!("copy-{round}"));
            std::fs::create_dir(&copy).unwrap();
            for suffix in ["", "-wal"] {
                let name = format!("gathered.db{suffix}");
                std::fs::copy(dir.path().join(&name), copy.join(&name)).unwrap();
            }
            let recovered = Connection::open(copy.join("gathered.db")).unwrap();
            assert_eq!(
                rows(&recovered),
                expected,
                "round {round}: the files hold the commit"
            );
            let check: String = recovered
                .query_row("PRAGMA integrity_check", [], |row| row.get(0))
                .unwrap();
            assert_eq!(check, "ok", "round {round}");
        }
    }

    /// The point of the VFS: a commit that changes hundreds of pages reaches the WAL in a
    /// handful of writes, where SQLite's own VFS makes two per page.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_commit_of_many_pages_takes_a_few_writes() {
        /// Write system calls made so far by the calling thread.
        fn writes_by_this_thread() -> u64 {
            let io = std::fs::read_to_string("/proc/thread-self/io").unwrap();
            let line = io.lines().find(|line| line.starts_with("syscw:")).unwrap();
            line["syscw:".len()..].trim().parse().unwrap()
        }

        let dir = tempfile::tempdir().unwrap();
        let mut conn = open_gathering(&dir.path().join("few-writes.db"));
        conn.pragma_update(None, "cache_size", 2000).unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER PRIMARY KEY, data BLOB NOT NULL)")
            .unwrap();

        let before = writes_by_this_thread();
        let tx = conn.transaction().unwrap();
        for _ in 0..200 {
            tx.execute("INSERT INTO t (data) VALUES (randomblob(3000))", [])
                .unwrap();
        }
        tx.commit().unwrap();
        let writes = writes_by_this_thread() - before;

        // 200 rows of 3,000 bytes fill at least 200 pages: 400 writes on SQLite's own VFS.
        // Gathered, they are 13 writes of 64 KiB at most.
        assert!(writes <= 20, "{writes} write calls for one commit");
    }
}
