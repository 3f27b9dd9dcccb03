//! One request: a descriptor chain checked and turned into a [`Request`]
//! (header, data descriptors, status byte), executed against a [`Backend`],
//! and its status written back.

use virtio_queue::desc::split::Descriptor;
use vm_memory::{Bytes, GuestMemoryBackend};

use super::{HEADER_LEN, ID_LEN, SECTOR, req, status};
use crate::memory::GuestMem;
use crate::virtio::backend::Backend;

/// How a request ended: the status to write (if the chain has a writable status
/// byte) and the number of bytes the device wrote into the chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Completion {
    /// The [`status`] byte to write, `None` when the chain has no place for it.
    pub status: Option<u8>,
    /// Bytes the device wrote into the chain (the used ring's length).
    pub used_len: u32,
}

/// A request that passed validation.
#[derive(Clone, Debug)]
enum Request {
    In { sector: u64, data: Vec<Descriptor> },
    Out { sector: u64, data: Vec<Descriptor> },
    GetId { data: Vec<Descriptor> },
}

/// Checks a chain and turns it into a request; `Err` carries the status to report.
fn parse(mem: &GuestMem, descs: &[Descriptor], capacity: u64) -> Result<Request, u8> {
    let (head, rest) = descs.split_first().ok_or(status::IOERR)?;
    let data = rest.get(..rest.len().saturating_sub(1)).unwrap_or(&[]);
    if head.is_write_only() || head.len() < HEADER_LEN {
        return Err(status::IOERR);
    }
    let mut header = [0u8; HEADER_LEN as usize];
    mem.read_slice(&mut header, head.addr())
        .map_err(|_| status::IOERR)?;
    let kind = u32::from_le_bytes(header[0..4].try_into().unwrap_or_default());
    let sector = u64::from_le_bytes(header[8..16].try_into().unwrap_or_default());

    let device_writes = match kind {
        req::IN | req::GET_ID => true,
        req::OUT => false,
        _ => return Err(status::UNSUPP),
    };
    let mut total: u64 = 0;
    for d in data {
        if d.is_write_only() != device_writes || !mem.check_range(d.addr(), d.len() as usize) {
            return Err(status::IOERR);
        }
        if kind != req::GET_ID && u64::from(d.len()) % SECTOR != 0 {
            return Err(status::IOERR);
        }
        total += u64::from(d.len());
    }
    let data = data.to_vec();
    match kind {
        req::GET_ID => Ok(Request::GetId { data }),
        _ => {
            let end = sector
                .checked_mul(SECTOR)
                .and_then(|start| start.checked_add(total))
                .ok_or(status::IOERR)?;
            if end > capacity {
                return Err(status::IOERR);
            }
            Ok(if kind == req::IN {
                Request::In { sector, data }
            } else {
                Request::Out { sector, data }
            })
        }
    }
}

/// Executes a valid request; returns the status and the data bytes written to
/// the guest.
fn execute(
    mem: &GuestMem,
    request: &Request,
    backend: &mut dyn Backend,
    id: &[u8; ID_LEN],
) -> (u8, u32) {
    let mut buf = Vec::new();
    match request {
        Request::In { sector, data } => {
            let mut offset = sector * SECTOR;
            let mut written = 0u32;
            for d in data {
                buf.resize(d.len() as usize, 0);
                if backend.read_at(offset, &mut buf).is_err()
                    || mem.write_slice(&buf, d.addr()).is_err()
                {
                    return (status::IOERR, written);
                }
                offset += u64::from(d.len());
                written += d.len();
            }
            (status::OK, written)
        }
        Request::Out { sector, data } => {
            let mut offset = sector * SECTOR;
            for d in data {
                buf.resize(d.len() as usize, 0);
                if mem.read_slice(&mut buf, d.addr()).is_err()
                    || backend.write_at(offset, &buf).is_err()
                {
                    return (status::IOERR, 0);
                }
                offset += u64::from(d.len());
            }
            (status::OK, 0)
        }
        Request::GetId { data } => {
            let mut src: &[u8] = id;
            let mut written = 0u32;
            for d in data {
                let n = src.len().min(d.len() as usize);
                if mem.write_slice(&src[..n], d.addr()).is_err() {
                    return (status::IOERR, written);
                }
                src = &src[n..];
                written += n as u32;
            }
            (status::OK, written)
        }
    }
}

/// Serves one descriptor chain: header, data descriptors, status byte.
pub fn handle_chain(
    mem: &GuestMem,
    descs: &[Descriptor],
    backend: &mut dyn Backend,
    id: &[u8; ID_LEN],
) -> Completion {
    // The status byte is the first byte of the last descriptor, which must be
    // device-writable and not the header.
    let status_addr = match descs.split_last() {
        Some((last, rest))
            if !rest.is_empty()
                && last.is_write_only()
                && last.len() >= 1
                && mem.check_range(last.addr(), 1) =>
        {
            last.addr()
        }
        _ => {
            return Completion {
                status: None,
                used_len: 0,
            };
        }
    };
    let (code, written) = match parse(mem, descs, backend.capacity()) {
        Ok(request) => execute(mem, &request, backend, id),
        Err(code) => (code, 0),
    };
    if mem.write_obj(code, status_addr).is_err() {
        return Completion {
            status: None,
            used_len: written,
        };
    }
    Completion {
        status: Some(code),
        used_len: written + 1,
    }
}
