//! The per-frame and per-poll calls (a trader's one-frame apply, a hub's one-frame turn, a REST klines poll and the discard after it) as raw Node-API functions, without napi-rs's class-method bookkeeping.
//!
//! napi-rs checks a class instance's type tag and registers and releases a borrow of it on every
//! method call: measured with callgrind, about 4,000 instructions and 150 instruction-cache lines
//! a call, as much as decoding and applying a one-row frame (docs/benchmarks-journal.md). These functions
//! find the book by a small integer handle in a per-thread table instead, read their arguments
//! with three or four Node-API calls, and run the same method the napi-rs export runs.
//!
//! A book enters the table when JavaScript asks for its handle (`hotHandle()`) and leaves it when
//! the book is dropped (its JavaScript object was collected), so a handle never reaches freed
//! memory: a stale or made-up handle is refused with `invalid_handle`.

use crate::hub::HubBook;
use crate::trader::TraderBook;
use napi::bindgen_prelude::Object;
use napi::sys::{self, napi_callback_info, napi_env, napi_value, Status, TypedarrayType};
use napi::{Env, JsValue, Result};
use std::cell::RefCell;
use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr;
use std::thread::LocalKey;

/// Books registered for hot calls on this thread, by handle (napi-rs boxes each class instance
/// once, so its address is stable until it is dropped).
pub struct HotSlots<T> {
    slots: Vec<*mut T>,
    free: Vec<u32>,
}

impl<T> Default for HotSlots<T> {
    fn default() -> Self {
        HotSlots {
            slots: Vec::new(),
            free: Vec::new(),
        }
    }
}

thread_local! {
    static TRADER_BOOKS: RefCell<HotSlots<TraderBook>> = RefCell::default();
    static HUB_BOOKS: RefCell<HotSlots<HubBook>> = RefCell::default();
}

/// A class whose instances can be reached by hot calls.
pub trait HotTarget: Sized + 'static {
    /// The table of this class's instances on this thread.
    fn slots() -> &'static LocalKey<RefCell<HotSlots<Self>>>;
    /// Where the instance keeps its handle once it has one (it unregisters it when dropped).
    fn handle_slot(&mut self) -> &mut Option<u32>;
}

impl HotTarget for TraderBook {
    fn slots() -> &'static LocalKey<RefCell<HotSlots<Self>>> {
        &TRADER_BOOKS
    }

    fn handle_slot(&mut self) -> &mut Option<u32> {
        &mut self.hot
    }
}

impl HotTarget for HubBook {
    fn slots() -> &'static LocalKey<RefCell<HotSlots<Self>>> {
        &HUB_BOOKS
    }

    fn handle_slot(&mut self) -> &mut Option<u32> {
        &mut self.hot
    }
}

/// The handle of `target` (the boxed instance napi-rs owns), putting it in its table on the
/// first call; the instance calls [`unregister`] with it when dropped.
pub fn handle<T: HotTarget>(target: &mut T) -> u32 {
    if let Some(handle) = *target.handle_slot() {
        return handle;
    }
    let handle = register(target);
    *target.handle_slot() = Some(handle);
    handle
}

fn register<T: HotTarget>(target: &mut T) -> u32 {
    let at = target as *mut T;
    T::slots().with(|slots| {
        let mut slots = slots.borrow_mut();
        match slots.free.pop() {
            Some(handle) => {
                slots.slots[handle as usize] = at;
                handle
            }
            None => {
                slots.slots.push(at);
                (slots.slots.len() - 1) as u32
            }
        }
    })
}

/// Takes a dropped instance's handle out of its table.
pub fn unregister<T: HotTarget>(handle: u32) {
    // During thread teardown the table may already be gone, and with it every handle.
    let _ = T::slots().try_with(|slots| {
        let mut slots = slots.borrow_mut();
        if let Some(slot) = slots.slots.get_mut(handle as usize) {
            *slot = ptr::null_mut();
            slots.free.push(handle);
        }
    });
}

/// The instance behind `handle`, if it is registered on this thread.
fn target<T: HotTarget>(handle: u32) -> Option<*mut T> {
    T::slots().with(|slots| {
        slots
            .borrow()
            .slots
            .get(handle as usize)
            .copied()
            .filter(|p| !p.is_null())
    })
}

/// Why a hot call refused its arguments: the `code` and message of the thrown error.
struct Refusal(&'static CStr, String);

fn refusal(code: &'static CStr, message: impl Into<String>) -> Refusal {
    Refusal(code, message.into())
}

/// The first `N` arguments of the call (missing ones are `undefined`).
unsafe fn args<const N: usize>(
    env: napi_env,
    info: napi_callback_info,
) -> std::result::Result<[napi_value; N], Refusal> {
    let mut argc = N;
    let mut argv = [ptr::null_mut(); N];
    let status = unsafe {
        sys::napi_get_cb_info(
            env,
            info,
            &mut argc,
            argv.as_mut_ptr(),
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    if status != Status::napi_ok {
        return Err(refusal(c"invalid_arg", "the call's arguments could not be read"));
    }
    Ok(argv)
}

unsafe fn u32_arg(env: napi_env, value: napi_value, name: &str) -> std::result::Result<u32, Refusal> {
    let mut number = 0;
    match unsafe { sys::napi_get_value_uint32(env, value, &mut number) } {
        Status::napi_ok => Ok(number),
        _ => Err(refusal(c"invalid_arg", format!("{name} must be a number"))),
    }
}

unsafe fn i64_arg(env: napi_env, value: napi_value, name: &str) -> std::result::Result<i64, Refusal> {
    let mut number = 0;
    match unsafe { sys::napi_get_value_int64(env, value, &mut number) } {
        Status::napi_ok => Ok(number),
        _ => Err(refusal(c"invalid_arg", format!("{name} must be a number"))),
    }
}

/// The bytes of a Uint8Array (a Buffer is one), valid until the call returns.
unsafe fn bytes_arg<'call>(env: napi_env, value: napi_value, name: &str) -> std::result::Result<&'call [u8], Refusal> {
    let mut kind = -1;
    let mut length = 0;
    let mut data: *mut c_void = ptr::null_mut();
    let status = unsafe {
        sys::napi_get_typedarray_info(
            env,
            value,
            &mut kind,
            &mut length,
            &mut data,
            ptr::null_mut(),
            ptr::null_mut(),
        )
    };
    if status != Status::napi_ok || kind != TypedarrayType::uint8_array {
        return Err(refusal(
            c"invalid_arg",
            format!("{name} must be a Buffer or Uint8Array"),
        ));
    }
    if length == 0 || data.is_null() {
        return Ok(&[]);
    }
    // SAFETY: Node-API gives the array's first element (byte offset applied) and its length; the
    // array cannot be detached or resized while this native call runs on the JavaScript thread.
    Ok(unsafe { std::slice::from_raw_parts(data as *const u8, length) })
}

/// A short string argument (an interval name): at most `N - 1` bytes are read, so a longer one
/// comes out cut, which no name the callers parse it as is.
unsafe fn short_str_arg<'b, const N: usize>(
    env: napi_env,
    value: napi_value,
    name: &str,
    buffer: &'b mut [u8; N],
) -> std::result::Result<&'b str, Refusal> {
    let mut length = 0;
    let status = unsafe { sys::napi_get_value_string_utf8(env, value, buffer.as_mut_ptr().cast(), N, &mut length) };
    if status != Status::napi_ok {
        return Err(refusal(c"invalid_arg", format!("{name} must be a string")));
    }
    // Node-API copies whole UTF-8 characters only, so the copied bytes are text.
    std::str::from_utf8(buffer.get(..length).unwrap_or_default())
        .map_err(|_| refusal(c"invalid_arg", format!("{name} must be a string")))
}

unsafe fn handle_arg<T: HotTarget>(env: napi_env, value: napi_value) -> std::result::Result<*mut T, Refusal> {
    let handle = unsafe { u32_arg(env, value, "handle") }?;
    target::<T>(handle).ok_or_else(|| refusal(c"invalid_handle", format!("no book has handle {handle} on this thread")))
}

/// Throws `refusal` and returns the `napi_value` a throwing callback returns.
unsafe fn throw(env: napi_env, Refusal(code, message): Refusal) -> napi_value {
    let message = CString::new(message).unwrap_or_default();
    unsafe { sys::napi_throw_error(env, code.as_ptr(), message.as_ptr()) };
    ptr::null_mut()
}

/// The call's result as a JavaScript number, or the pending exception of a failed call (a
/// napi-rs error not yet thrown is thrown here).
unsafe fn finish(env: napi_env, result: Result<u32>) -> napi_value {
    match result {
        Ok(number) => {
            let mut value = ptr::null_mut();
            unsafe { sys::napi_create_uint32(env, number, &mut value) };
            value
        }
        Err(error) if error.status == napi::Status::PendingException => ptr::null_mut(),
        Err(error) => unsafe { throw(env, refusal(c"native_failure", error.reason.clone())) },
    }
}

/// `traderApplyOne(handle, frame)`: `TraderBook.applyOne(frame)`.
unsafe extern "C" fn trader_apply_one(env: napi_env, info: napi_callback_info) -> napi_value {
    let parsed = unsafe {
        args::<2>(env, info)
            .and_then(|[handle, frame]| Ok((handle_arg::<TraderBook>(env, handle)?, bytes_arg(env, frame, "frame")?)))
    };
    match parsed {
        // SAFETY: the instance is registered, so alive; no other reference to it is live while
        // JavaScript is inside this call (native code never calls back into JavaScript).
        Ok((book, frame)) => unsafe { finish(env, Ok((*book).apply_one(frame))) },
        Err(refused) => unsafe { throw(env, refused) },
    }
}

/// `hubIngestOne(handle, frame, source, now)`: `HubBook.ingestOneToScratch(frame, source, now)`.
unsafe extern "C" fn hub_ingest_one(env: napi_env, info: napi_callback_info) -> napi_value {
    let parsed = unsafe {
        args::<4>(env, info).and_then(|[handle, frame, source, now]| {
            Ok((
                handle_arg::<HubBook>(env, handle)?,
                bytes_arg(env, frame, "frame")?,
                u32_arg(env, source, "source")?,
                i64_arg(env, now, "now")?,
            ))
        })
    };
    match parsed {
        // SAFETY: as in `trader_apply_one`.
        Ok((book, frame, source, now)) => unsafe {
            finish(
                env,
                (*book).ingest_one_to_scratch(Env::from_raw(env), frame, source, now),
            )
        },
        Err(refused) => unsafe { throw(env, refused) },
    }
}

/// `hubMergeRestKlines(handle, symbolId, interval, body, serverTimeMs, source, receivedAt)`:
/// `HubBook.mergeRestKlines` with the same arguments.
unsafe extern "C" fn hub_merge_rest_klines(env: napi_env, info: napi_callback_info) -> napi_value {
    let mut interval = [0u8; 8];
    let parsed = unsafe {
        args::<7>(env, info).and_then(|[handle, symbol, name, body, server_time, source, received_at]| {
            Ok((
                handle_arg::<HubBook>(env, handle)?,
                u32_arg(env, symbol, "symbolId")?,
                short_str_arg(env, name, "interval", &mut interval)?,
                bytes_arg(env, body, "body")?,
                i64_arg(env, server_time, "serverTimeMs")?,
                u32_arg(env, source, "source")?,
                i64_arg(env, received_at, "receivedAt")?,
            ))
        })
    };
    match parsed {
        // SAFETY: as in `trader_apply_one`.
        Ok((book, symbol, interval, body, server_time, source, received_at)) => unsafe {
            let env = Env::from_raw(env);
            let merged = (*book).merge_rest_poll(&env, symbol, interval, body, server_time, source, received_at);
            finish(env.raw(), merged)
        },
        Err(refused) => unsafe { throw(env, refused) },
    }
}

/// `hubDiscardDeltas(handle)`: `HubBook.discardDeltas()`.
unsafe extern "C" fn hub_discard_deltas(env: napi_env, info: napi_callback_info) -> napi_value {
    let parsed = unsafe { args::<1>(env, info).and_then(|[handle]| handle_arg::<HubBook>(env, handle)) };
    match parsed {
        // SAFETY: as in `trader_apply_one`.
        Ok(book) => unsafe { finish(env, Ok((*book).discard_deltas())) },
        Err(refused) => unsafe { throw(env, refused) },
    }
}

/// Adds the raw functions to the module's exports.
#[napi_derive::napi(module_exports)]
pub fn register_hot_calls(exports: Object) -> Result<()> {
    let env = exports.value().env;
    for (name, call) in [
        (
            c"traderApplyOne",
            trader_apply_one as unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value,
        ),
        (c"hubIngestOne", hub_ingest_one),
        (c"hubMergeRestKlines", hub_merge_rest_klines),
        (c"hubDiscardDeltas", hub_discard_deltas),
    ] {
        let mut function = ptr::null_mut();
        let name_ptr: *const c_char = name.as_ptr();
        // SAFETY: plain Node-API calls on the module's env during its initialisation.
        let created = unsafe {
            sys::napi_create_function(
                env,
                name_ptr,
                name.to_bytes().len() as isize,
                Some(call),
                ptr::null_mut(),
                &mut function,
            )
        } == Status::napi_ok;
        // SAFETY: as above.
        if !created
            || unsafe { sys::napi_set_named_property(env, exports.raw(), name_ptr, function) } != Status::napi_ok
        {
            return Err(napi::Error::from_reason(format!(
                "could not export {}",
                name.to_string_lossy()
            )));
        }
    }
    Ok(())
}
