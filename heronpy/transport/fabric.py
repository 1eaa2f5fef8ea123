"""Reliable-datagram messaging over libfabric: ``shm`` within a host, ``tcp;ofi_rxm`` between
hosts, or whatever fabric the machine has (``providers()`` lists what it offers).

A FabricEndpoint owns one ``FI_EP_RDM`` endpoint, its completion queue and address vector, and
one slab of buffers (registered when the provider asks for ``FI_MR_LOCAL``): ``send`` copies a
small message into a free send buffer and hands a large one to the provider where it lies (kept
alive until sent), ``recv`` takes messages from receive buffers kept posted (or
lends them: ``copy=False``, until ``give_back``).
Progress is manual: data moves only while ``send``, ``recv``, ``flush``, ``warm_up`` or
``progress`` runs, on both sides (two endpoints in one process need a thread each, or calls
that do not wait).
Addresses are opaque bytes exchanged out of band (by the topology master); endpoints that talk
must agree on ``max_message``. Not thread-safe: one thread per endpoint.
"""

from __future__ import annotations

import contextlib
import errno
import select
import struct
import time
import weakref
from collections import deque
from collections.abc import Sequence

from heronpy.transport import frame
from heronpy.transport.libfabric import FabricError, FabricUnavailable, load

__all__ = ["MAX_MESSAGE", "FabricEndpoint", "FabricError", "FabricUnavailable", "providers"]

MAX_MESSAGE = (1 << 20) + frame.HEADER.size
"""The default largest message: a 1 MiB payload and its frame header (the stream manager chunks
anything larger)."""
SPIN_SECONDS = 0.001
"""A wait (for a message, a free send buffer, ...) busy-polls this long, then, to spare the CPU,
blocks on the completion queue's file descriptor between polls or, where the provider has none
(shm), naps ``NAP_SECONDS``. No block lasts longer than ``BLOCK_SECONDS``: that bounds what a
wake-up the provider does not signal can cost."""
NAP_SECONDS = 0.0001
SEND_IN_PLACE_FROM = 262144
"""Messages this large or larger are sent from the caller's memory where the provider needs no
registered buffers: the copy of a 1 MiB message took ~13 % of a sending stream manager's time
(tcp;ofi_rxm). Below this the copy pays: 64 KiB frames crossed the stream managers' hop at
+17 % MB/s (shm) and +8 % (tcp;ofi_rxm) when copied (medians of 5 interleaved runs)."""
BLOCK_SECONDS = 0.01
CQ_BATCH = 16
ADDRESS_HEADER = struct.Struct("<Q")  # an address starts with its endpoint's max_message
ADDRESS_PAD = 256  # the provider's part is zero-padded to this: providers read their own length
ENDPOINT_TYPES = {"FI_EP_MSG": "msg", "FI_EP_DGRAM": "dgram", "FI_EP_RDM": "rdm"}


def providers() -> list[dict]:
    """What libfabric offers on this machine: one dict per provider, fabric, domain and endpoint
    type, e.g. ``{"provider": "shm", "fabric": "shm", "domain": "shm", "endpoint": "rdm"}``.
    FabricEndpoint needs an ``"rdm"`` (reliable datagram) one."""
    ffi, lib = _binding()
    out = ffi.new("struct fi_info **")
    code = lib.fi_getinfo(_version(), ffi.NULL, ffi.NULL, 0, ffi.NULL, out)
    if code == -lib.FI_ENODATA:
        return []
    _check(code, "fi_getinfo")
    types = {getattr(lib, name): short for name, short in ENDPOINT_TYPES.items()}
    found = []
    info = out[0]
    while info != ffi.NULL:
        entry = {"provider": _text(info.fabric_attr.prov_name),
                 "fabric": _text(info.fabric_attr.name),
                 "domain": _text(info.domain_attr.name),
                 "endpoint": types.get(info.ep_attr.type, str(info.ep_attr.type))}
        if entry not in found:
            found.append(entry)
        info = info.next
    lib.fi_freeinfo(out[0])
    return found


class FabricEndpoint:
    """A reliable-datagram endpoint on ``provider`` (``"shm"``, ``"tcp;ofi_rxm"``, ...).

    Messages are 1 to ``max_message`` bytes; those from one sender arrive in the order sent.
    ``recv_buffers`` receive buffers stay posted; up to ``send_buffers`` sends are in flight.
    Buffers are found by index: receive buffers first, then send buffers (``forget`` adds new
    send buffers in place of lost ones).
    """

    def __init__(self, provider: str, *, max_message: int = MAX_MESSAGE, recv_buffers: int = 8,
                 send_buffers: int = 8):
        self._ffi, self._lib = _binding()
        self.provider = provider
        self.max_message = max_message
        self._fids = []  # every opened object (struct fid *), closed in reverse order
        self._memory = []  # what the provider may use until the objects are closed
        self._closed = False
        self._lent: dict[int, tuple[memoryview, int]] = {}  # recv(copy=False): view, buffer
        # close() runs this once; so does garbage collection or interpreter exit if nobody
        # called close() (shm leaves its /dev/shm segment behind otherwise)
        self._release = weakref.finalize(self, _close, self._fids, self._memory)
        try:
            self._open(provider, recv_buffers, send_buffers)
        except BaseException:
            self.close()
            raise

    def _open(self, provider: str, n_recv: int, n_send: int) -> None:
        ffi, lib = self._ffi, self._lib
        info = _getinfo(provider)
        try:
            if self.max_message > info.ep_attr.max_msg_size:
                raise ValueError(f"{provider} carries messages of at most "
                                 f"{info.ep_attr.max_msg_size} bytes, not {self.max_message}")
            self._fabric = self._opened("struct fid_fabric **", lib.fi_fabric, info.fabric_attr)
            self._domain = self._opened("struct fid_domain **", lib.fi_domain, self._fabric, info)
            # receive buffers first, then send buffers; each has its own operation context,
            # which tells completions apart (and is what FI_CONTEXT providers require)
            size = (n_recv + n_send) * self.max_message
            self._slab = ffi.new_allocator(should_clear_after_alloc=False)("char[]", size)
            self._contexts = ffi.new("struct fi_context2[]", n_recv + n_send)
            self._memory += [self._slab, self._contexts]
            self._local_mr = self._needs_local_mr(info)
            self._iov_limit = 0 if self._local_mr else info.tx_attr.iov_limit
            desc = self._register(self._slab, size)
            self._cq, self._fd = self._open_cq()
            av_attr = ffi.new("struct fi_av_attr *")
            self._av = self._opened("struct fid_av **", lib.fi_av_open, self._domain, av_attr)
            self._ep = self._opened("struct fid_ep **", lib.fi_endpoint, self._domain, info)
        finally:
            lib.fi_freeinfo(info)
        _check(lib.fi_ep_bind(self._ep, ffi.addressof(self._av.fid), 0), "fi_ep_bind(av)")
        _check(lib.fi_ep_bind(self._ep, ffi.addressof(self._cq.fid), lib.FI_TRANSMIT | lib.FI_RECV),
               "fi_ep_bind(cq)")
        _check(lib.fi_enable(self._ep), "fi_enable")
        self.address: bytes = ADDRESS_HEADER.pack(self.max_message) + self._getname()
        self._n_recv = n_recv
        # per buffer: its memory, registration descriptor and operation context
        self._pointer = [self._slab + i * self.max_message for i in range(n_recv + n_send)]
        self._desc = [desc] * (n_recv + n_send)
        self._context = [self._contexts + i for i in range(n_recv + n_send)]
        self._by_context = {int(ffi.cast("uintptr_t", c)): i for i, c in enumerate(self._context)}
        slab = memoryview(ffi.buffer(self._slab))
        self._views = [slab[i * self.max_message:(i + 1) * self.max_message]
                       for i in range(n_recv)]
        self._free = list(range(n_recv, n_recv + n_send))  # send buffers not in flight
        self._sending: dict[int, int] = {}  # send buffer in flight -> the peer it goes to
        self._in_place: dict[int, tuple] = {}  # send buffer -> what its in-place send reads
        self._lost: set[int] = set()  # send buffers written off by forget()
        self._posted = deque()  # receive buffers in the order posted: messages match in order
        self._length = [None] * n_recv  # length of the message a receive buffer holds
        self._unposted = list(range(n_recv))  # receive buffers to post at the next progress
        self._entries = ffi.new("struct fi_cq_msg_entry[]", CQ_BATCH)
        self._wait_fids = ffi.new("struct fid *[1]", [ffi.addressof(self._cq.fid)])
        if self._fd is not None:
            self._poller = select.poll()
            self._poller.register(self._fd, select.POLLIN)
        self.progress()

    def _needs_local_mr(self, info) -> bool:
        """Whether the provider needs the buffers registered (FI_MR_LOCAL; verbs does)."""
        return bool(info.domain_attr.mr_mode & self._lib.FI_MR_LOCAL)

    def _register(self, memory, size: int):
        """The descriptor sends and receives in ``memory`` pass: NULL unless the provider
        needs buffers registered."""
        if not self._local_mr:
            return self._ffi.NULL
        lib = self._lib
        mr = self._opened("struct fid_mr **", lib.fi_mr_reg, self._domain, memory, size,
                          lib.FI_SEND | lib.FI_RECV, 0, 0, 0)
        return lib.fi_mr_desc(mr)

    def _opened(self, out_type: str, call, *args):
        """Calls an ``fi_*`` open function (out-parameter and context last); keeps the object
        for ``close``."""
        out = self._ffi.new(out_type)
        _check(call(*args, out, self._ffi.NULL), call.__name__)
        self._fids.append(self._ffi.addressof(out[0].fid))
        return out[0]

    def _open_cq(self):
        """The completion queue, and its file descriptor where the provider has one (tcp;ofi_rxm
        has; shm has not, and udp;ofi_rxd opens the queue but does not hand the fd out)."""
        ffi, lib = self._ffi, self._lib
        attr = ffi.new("struct fi_cq_attr *")
        attr.format = lib.FI_CQ_FORMAT_MSG
        attr.wait_obj = lib.FI_WAIT_FD
        try:
            cq = self._opened("struct fid_cq **", lib.fi_cq_open, self._domain, attr)
        except FabricError as e:
            if e.code != lib.FI_ENOSYS:
                raise
        else:
            fd = ffi.new("int *")
            code = lib.fi_control(ffi.addressof(cq.fid), lib.FI_GETWAIT, fd)
            if code != -lib.FI_ENOSYS:
                _check(code, "fi_control(GETWAIT)")
                return cq, fd[0]
            _check(lib.fi_close(self._fids.pop()), "fi_close(cq)")
        attr.wait_obj = lib.FI_WAIT_NONE
        return self._opened("struct fid_cq **", lib.fi_cq_open, self._domain, attr), None

    def _getname(self) -> bytes:
        ffi, lib = self._ffi, self._lib
        size = ffi.new("size_t *", 0)
        fid = ffi.addressof(self._ep.fid)
        code = lib.fi_getname(fid, ffi.NULL, size)
        if code != -lib.FI_ETOOSMALL:
            _check(code, "fi_getname")
        name = ffi.new("char[]", size[0])
        _check(lib.fi_getname(fid, name, size), "fi_getname")
        return ffi.buffer(name, size[0])[:]

    def connect(self, peer_address: bytes) -> int:
        """Adds the peer with this address (its ``address``); returns its id for ``send``.

        Refuses a peer with another ``max_message``: libfabric 1.17 does not survive a message
        larger than the receive buffer (shm hangs, tcp;ofi_rxm loses what follows).
        """
        self._check_open()
        peer_address = bytes(peer_address)
        if len(peer_address) <= ADDRESS_HEADER.size:
            raise ValueError(f"not a fabric endpoint address: {peer_address!r}")
        (limit,) = ADDRESS_HEADER.unpack_from(peer_address)
        if limit != self.max_message:
            raise ValueError(f"the peer's max_message is {limit}, this endpoint's "
                             f"{self.max_message}: endpoints that talk must agree")
        ffi = self._ffi
        name = peer_address[ADDRESS_HEADER.size:].ljust(ADDRESS_PAD, b"\0")
        address = ffi.new("char[]", name)
        peer = ffi.new("fi_addr_t *")
        if _check(self._lib.fi_av_insert(self._av, address, 1, peer, 0, ffi.NULL),
                  "fi_av_insert") != 1:
            raise FabricError(f"{self.provider} rejected the peer address {peer_address!r}")
        return peer[0]

    def send(self, peer: int, data, timeout: float | None = None) -> None:
        """Sends ``data`` (bytes-like, 1 to ``max_message`` bytes) to ``peer``: copies it into a
        free send buffer and posts it. While every send buffer is in flight, drives progress
        until one is free; raises TimeoutError if none is within ``timeout`` seconds (0: do
        not wait; nothing was sent then)."""
        self.sendv(peer, (data,), timeout)

    def sendv(self, peer: int, parts: Sequence, timeout: float | None = None) -> None:
        """Sends the bytes-like ``parts``, concatenated, as one message (as ``send``): small
        messages with one copy, straight into the send buffer; large ones (see
        ``SEND_IN_PLACE_FROM``) from ``parts`` themselves, which stay referenced until sent."""
        self._check_open()
        sizes = [memoryview(part).nbytes for part in parts]
        size = sum(sizes)
        if not 0 < size <= self.max_message:
            raise ValueError(f"a message is 1 to {self.max_message} bytes (max_message), not "
                             f"{size}" + ("; split larger ones" if size else ""))
        deadline = None if timeout is None else time.monotonic() + timeout
        buffer = self._send_buffer(deadline)
        ffi = self._ffi
        if size >= SEND_IN_PLACE_FROM and len(parts) <= self._iov_limit:
            ep, context, sendv = self._ep, self._context[buffer], self._lib.fi_sendv
            pieces = [ffi.from_buffer(part) for part in parts]
            iov = ffi.new("struct iovec[]", list(zip(pieces, sizes, strict=True)))
            self._post_send(buffer, lambda: sendv(ep, iov, ffi.NULL, len(pieces), peer, context),
                            peer, deadline)
            self._in_place[buffer] = (iov, pieces)
            return
        target = self._pointer[buffer]
        for part, part_size in zip(parts, sizes, strict=True):
            ffi.memmove(target, part, part_size)
            target += part_size
        self._post_copied(buffer, size, peer, deadline)

    def _send_buffer(self, deadline: float | None) -> int:
        if not (self._free or self._progress_until(lambda: self._free, deadline)):
            raise TimeoutError("no send buffer came free: the peer takes nothing")
        return self._free.pop()

    def _post_copied(self, buffer: int, size: int, peer: int, deadline: float | None) -> None:
        """Posts the first ``size`` bytes of send ``buffer``."""
        ep, send = self._ep, self._lib.fi_send
        pointer, desc, context = self._pointer[buffer], self._desc[buffer], self._context[buffer]
        self._post_send(buffer, lambda: send(ep, pointer, size, desc, peer, context), peer,
                        deadline)

    def _post_send(self, buffer: int, post, peer: int, deadline: float | None) -> None:
        """Posts send ``buffer`` (``post()`` calls fi_send*), driving progress while the
        provider says try again."""
        code = 0

        def posted() -> bool:
            nonlocal code
            code = post()
            return code != -self._lib.FI_EAGAIN

        try:
            if not (posted() or self._progress_until(posted, deadline)):
                raise TimeoutError(f"{self.provider} accepted no send: the peer takes nothing")
            _check(code, "fi_send")
        except BaseException:
            self._free.append(buffer)
            raise
        self._sending[buffer] = peer

    @property
    def in_flight(self) -> int:
        """Sends posted and not yet completed."""
        return len(self._sending)

    def forget(self, peer: int) -> None:
        """Gives up on the sends in flight to ``peer``, a peer that is gone: libfabric 1.17
        neither completes nor cancels them (tcp;ofi_rxm, shm), so their buffers would be lost
        to every other peer. They are written off (kept until ``close``: the provider may still
        read them) and new send buffers take their place."""
        self._check_open()
        for buffer in [b for b, to in self._sending.items() if to == peer]:
            del self._sending[buffer]
            self._lost.add(buffer)
            self._free.append(self._new_send_buffer())

    def _new_send_buffer(self) -> int:
        ffi = self._ffi
        memory = ffi.new_allocator(should_clear_after_alloc=False)("char[]", self.max_message)
        context = ffi.new("struct fi_context2 *")
        self._memory += [memory, context]
        buffer = len(self._pointer)
        self._pointer.append(memory)
        self._desc.append(self._register(memory, self.max_message))
        self._context.append(context)
        self._by_context[int(ffi.cast("uintptr_t", context))] = buffer
        return buffer

    def recv(self, timeout: float | None = None, *, copy: bool = True) -> bytes | memoryview | None:
        """The next message, or None if none arrives within ``timeout`` seconds (0: only what
        has arrived; None: wait for ever). ``copy=False`` returns a memoryview of the receive
        buffer instead of bytes, lent until ``give_back``: until then that buffer takes no new
        message (with all ``recv_buffers`` lent, nothing arrives)."""
        self._check_open()
        deadline = None if timeout is None else time.monotonic() + timeout
        if not (self._has_message() or self._progress_until(self._has_message, deadline)):
            return None
        buffer = self._posted.popleft()
        view = self._views[buffer][:self._length[buffer]]
        if copy:
            self._unposted.append(buffer)
            return view.tobytes()
        self._lent[id(view)] = (view, buffer)
        return view

    def give_back(self, view: memoryview) -> None:
        """Releases ``view``, which ``recv(copy=False)`` lent (using it afterwards raises
        ValueError); its buffer takes messages again from the next progress on. Raises
        BufferError, and keeps it lent, while something still uses it (a send in place)."""
        lent = self._lent.get(id(view))
        if lent is None or lent[0] is not view:
            raise ValueError("give_back takes a memoryview this endpoint's recv lent")
        view.release()
        del self._lent[id(view)]
        self._unposted.append(lent[1])

    def _has_message(self) -> bool:
        """Whether the oldest posted receive buffer holds a message (empty ones, from peers'
        warm_up, are dropped). Completions can come out of order (tcp;ofi_rxm completes a large
        message after a small one behind it), but messages fill buffers in the order posted."""
        posted, length = self._posted, self._length
        while posted and length[posted[0]] == 0:
            self._unposted.append(posted.popleft())
        return bool(posted) and length[posted[0]] is not None

    def _progress_until(self, ready, deadline: float | None) -> bool:
        """Drives progress until ``ready()`` (True) or ``deadline`` (False); see SPIN_SECONDS."""
        spin_until = time.monotonic() + SPIN_SECONDS
        while True:
            self.progress()
            if ready():
                return True
            now = time.monotonic()
            if deadline is not None and now >= deadline:
                return False
            if now >= spin_until:
                left = BLOCK_SECONDS if deadline is None else deadline - now
                self._idle(min(BLOCK_SECONDS, left))

    def _idle(self, seconds: float) -> None:
        if self._fd is None:
            time.sleep(min(NAP_SECONDS, seconds))
        elif self.trywait():
            self._poller.poll(seconds * 1000)

    def progress(self) -> None:
        """Moves data: posts free receive buffers and takes every completion waiting (sends that
        have left, messages that have arrived). Raises FabricError for a failed operation."""
        self._check_open()
        ffi, lib = self._ffi, self._lib
        self._post_receives()
        entries, by_context = self._entries, self._by_context
        while True:
            count = lib.fi_cq_read(self._cq, entries, CQ_BATCH)
            if count == -lib.FI_EAGAIN:
                return
            if count == -lib.FI_EAVAIL:
                self._read_failure()
                continue
            _check(count, "fi_cq_read")
            for i in range(count):
                buffer = by_context[int(ffi.cast("uintptr_t", entries[i].op_context))]
                if buffer < self._n_recv:
                    self._length[buffer] = entries[i].len
                else:
                    self._send_ended(buffer)
            if count < CQ_BATCH:
                return

    def _send_ended(self, buffer: int) -> bool:
        """Takes send ``buffer`` back, its send completed or failed; False if ``forget`` wrote
        it off (it stays out, with what its send reads)."""
        if self._sending.pop(buffer, None) is None:
            return False
        self._in_place.pop(buffer, None)
        self._free.append(buffer)
        return True

    def _post_receives(self) -> None:
        lib = self._lib
        while self._unposted:
            buffer = self._unposted[-1]
            code = lib.fi_recv(self._ep, self._pointer[buffer], self.max_message,
                               self._desc[buffer], lib.FI_ADDR_UNSPEC, self._context[buffer])
            if code == -lib.FI_EAGAIN:
                return
            _check(code, "fi_recv")
            self._unposted.pop()
            self._length[buffer] = None
            self._posted.append(buffer)

    def _read_failure(self) -> None:
        """Reads the failed completion, takes its buffer back and raises FabricError (not for
        a send ``forget`` wrote off)."""
        ffi, lib = self._ffi, self._lib
        error = ffi.new("struct fi_cq_err_entry *")
        _check(lib.fi_cq_readerr(self._cq, error, 0), "fi_cq_readerr")
        what = "an operation"
        if error.op_context != ffi.NULL:
            buffer = self._by_context[int(ffi.cast("uintptr_t", error.op_context))]
            if buffer < self._n_recv:
                what = "a receive"
                self._posted.remove(buffer)
                self._unposted.append(buffer)
            elif not self._send_ended(buffer):
                return  # written off
            else:
                what = "a send"
        detail = _text(lib.fi_cq_strerror(self._cq, error.prov_errno, error.err_data, ffi.NULL, 0))
        raise FabricError(f"{what} failed: {_text(lib.fi_strerror(error.err))} "
                          f"({self.provider}: {detail})", error.err)

    def flush(self, timeout: float | None = None) -> None:
        """Drives progress until every send has completed (left this endpoint; for large
        messages, been taken by the peer). Call it before going idle or closing. Raises
        TimeoutError after ``timeout`` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        if not self._progress_until(lambda: not self._sending, deadline):
            raise TimeoutError(f"{len(self._sending)} sends still in flight")

    def warm_up(self, peer: int, timeout: float = 10.0) -> None:
        """Connects to ``peer`` now rather than at the first message: sends it an empty message
        (its ``recv`` drops it) and waits until that has left. With tcp;ofi_rxm the first
        message in each direction costs 10-270 ms (connections are made lazily), so at start-up
        both ends warm each other up, at the same time: the peer must be driving progress
        meanwhile (in its own warm_up, recv or flush)."""
        self._check_open()
        deadline = time.monotonic() + timeout
        self._post_copied(self._send_buffer(deadline), 0, peer, deadline)
        self.flush(deadline - time.monotonic())

    def fileno(self) -> int | None:
        """A file descriptor that becomes readable when there may be work for ``progress``
        (tcp;ofi_rxm), for an event loop; None where the provider has none (shm). Block on it
        only after ``trywait()`` returned True."""
        self._check_open()
        return self._fd

    def trywait(self) -> bool:
        """Whether blocking on ``fileno()`` is safe now; False: call ``progress`` first."""
        self._check_open()
        return self._lib.fi_trywait(self._fabric, self._wait_fids, 1) == 0

    def close(self) -> None:
        """Releases the endpoint, queues, registrations and file descriptors; idempotent.
        Sends still in flight are dropped: ``flush`` first."""
        if self._closed:
            return
        self._closed = True
        for view, _ in self._lent.values():
            with contextlib.suppress(BufferError):  # still exported: the memory stays valid
                view.release()
        self._lent.clear()
        self._release()

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("the fabric endpoint is closed")

    def __enter__(self) -> FabricEndpoint:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _close(fids: list, memory: list) -> None:
    """Closes libfabric objects newest first, then lets go of the memory they used.

    tcp;ofi_rxm refuses (EBUSY) to close the domain of an endpoint closed with a large send
    in flight; closing it again would free it twice, so it and the memory stay until the
    process exits."""
    lib = load().lib
    failed = 0
    while fids:
        code = lib.fi_close(fids.pop())
        failed = failed or min(code, 0)
    if failed == -errno.EBUSY:  # FI_EBUSY is EBUSY
        return
    memory.clear()
    _check(failed, "fi_close")


def _getinfo(provider: str):
    """The first ``fi_info`` of ``provider`` for ordered reliable-datagram messaging, with the
    modes this module honours (caller frees it)."""
    ffi, lib = _binding()
    hints = lib.fi_allocinfo()
    if hints == ffi.NULL:
        raise MemoryError("fi_allocinfo")
    hints.caps = lib.FI_MSG
    hints.mode = lib.FI_CONTEXT | lib.FI_CONTEXT2
    hints.ep_attr.type = lib.FI_EP_RDM
    hints.domain_attr.mr_mode = (lib.FI_MR_LOCAL | lib.FI_MR_VIRT_ADDR | lib.FI_MR_ALLOCATED
                                 | lib.FI_MR_PROV_KEY)
    hints.domain_attr.threading = lib.FI_THREAD_DOMAIN
    hints.tx_attr.msg_order = hints.rx_attr.msg_order = lib.FI_ORDER_SAS
    hints.fabric_attr.prov_name = lib.strdup(provider.encode())  # fi_freeinfo frees it
    out = ffi.new("struct fi_info **")
    code = lib.fi_getinfo(_version(), ffi.NULL, ffi.NULL, 0, hints, out)
    lib.fi_freeinfo(hints)
    if code == -lib.FI_ENODATA:
        offered = sorted({p["provider"] for p in providers() if p["endpoint"] == "rdm"})
        raise FabricError(f"libfabric has no provider {provider!r} for ordered reliable-datagram "
                          f"messaging (FI_EP_RDM) here; these do: {', '.join(offered)}", -code)
    _check(code, f"fi_getinfo({provider!r})")
    return out[0]


def _binding():
    binding = load()
    return binding.ffi, binding.lib


def _version() -> int:
    lib = load().lib
    return lib.FI_VERSION(lib.FI_MAJOR_VERSION, lib.FI_MINOR_VERSION)


def _text(pointer) -> str:
    ffi = load().ffi
    return "" if pointer == ffi.NULL else ffi.string(pointer).decode(errors="replace")


def _check(code: int, what: str) -> int:
    """``code`` unless it is a (negative) libfabric error: then raises FabricError."""
    if code < 0:
        text = _text(load().lib.fi_strerror(-code))
        raise FabricError(f"{what} failed: {text} (-{-code})", -code)
    return code

