//! The answers the ACS writes, in GenieACS's header order and wording.

use super::*;

/// A response body that is sent whole, with Content-Length, or chunked (GenieACS chunks its
/// 405 and 503 answers).
#[derive(Debug)]
pub struct AcsBody {
    pub(super) data: Option<Bytes>,
    pub(super) chunked: bool,
}

impl hyper::body::Body for AcsBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Poll::Ready(
            self.data
                .take()
                .filter(|d| !d.is_empty())
                .map(|d| Ok(Frame::data(d))),
        )
    }

    fn is_end_stream(&self) -> bool {
        !self.chunked && self.data.as_ref().is_none_or(|d| d.is_empty())
    }

    fn size_hint(&self) -> SizeHint {
        if self.chunked {
            SizeHint::default()
        } else {
            SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.len() as u64))
        }
    }
}

pub(super) type Resp = Response<AcsBody>;

pub(super) fn date() -> String {
    httpdate::fmt_http_date(SystemTime::now())
}

pub(super) fn build(b: http::response::Builder, data: Bytes, chunked: bool) -> Resp {
    b.body(AcsBody {
        data: Some(data),
        chunked,
    })
    .unwrap_or_else(|_| {
        let mut r = Response::new(AcsBody {
            data: None,
            chunked: false,
        });
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

/// 200 with a SOAP envelope, headers in GenieACS's order.
pub(super) fn soap(body: Vec<u8>, cookie: Option<u64>, close: bool) -> Resp {
    let mut b = Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_LENGTH, body.len())
        .header(header::SERVER, SERVER)
        .header("SOAPServer", SERVER)
        .header(header::CONTENT_TYPE, "text/xml; charset=\"utf-8\"");
    if let Some(c) = cookie {
        b = b.header(header::SET_COOKIE, format!("session={c:016x}"));
    }
    b = b.header(header::DATE, date()).header(
        header::CONNECTION,
        if close { "close" } else { "keep-alive" },
    );
    build(b, Bytes::from(body), false)
}

/// 204: the ACS has nothing more; the session and the connection end.
pub(super) fn end_of_session() -> Resp {
    let b = Response::builder()
        .status(StatusCode::NO_CONTENT)
        .header(header::CONTENT_LENGTH, 0)
        .header(header::SERVER, SERVER)
        .header("SOAPServer", SERVER)
        .header(header::CONNECTION, "close")
        .header(header::DATE, date());
    build(b, Bytes::new(), false)
}

/// 400 with a short text, closing the connection.
pub(super) fn bad_request(text: &str) -> Resp {
    let b = Response::builder()
        .status(StatusCode::BAD_REQUEST)
        .header(header::CONTENT_LENGTH, text.len())
        .header(header::CONNECTION, "close")
        .header(header::DATE, date());
    build(b, Bytes::copy_from_slice(text.as_bytes()), false)
}

pub(super) fn unauthorized(challenge: Option<String>) -> Resp {
    let mut b = Response::builder()
        .status(StatusCode::UNAUTHORIZED)
        .header(header::CONTENT_LENGTH, "Unauthorized".len());
    let close = challenge.is_none();
    if let Some(c) = challenge {
        b = b.header(header::WWW_AUTHENTICATE, c);
    }
    b = b.header(header::DATE, date()).header(
        header::CONNECTION,
        if close { "close" } else { "keep-alive" },
    );
    build(b, Bytes::from_static(b"Unauthorized"), false)
}

pub(super) fn method_not_allowed() -> Resp {
    let b = Response::builder()
        .status(StatusCode::METHOD_NOT_ALLOWED)
        .header(header::ALLOW, "POST")
        .header(header::CONNECTION, "close")
        .header(header::DATE, date())
        .header(header::TRANSFER_ENCODING, "chunked");
    build(b, Bytes::from_static(b"405 Method Not Allowed"), true)
}

pub(super) fn overloaded(bad: Misbehaviour) -> Resp {
    let mut b = Response::builder().status(StatusCode::SERVICE_UNAVAILABLE);
    if !bad.has(Misbehave::NoRetryAfter) {
        b = b.header(header::RETRY_AFTER, policy::retry_after_s());
    }
    let b = b
        .header(header::CONNECTION, "close")
        .header(header::DATE, date())
        .header(header::TRANSFER_ENCODING, "chunked");
    build(b, Bytes::from_static(b"503 Service Unavailable"), true)
}

pub(super) fn plain(status: StatusCode, text: &'static str) -> Resp {
    let b = Response::builder()
        .status(status)
        .header(header::CONTENT_LENGTH, text.len())
        .header(header::CONNECTION, "close")
        .header(header::DATE, date());
    build(b, Bytes::from_static(text.as_bytes()), false)
}

pub(super) fn json(status: StatusCode, body: Vec<u8>) -> Resp {
    let b = Response::builder()
        .status(status)
        .header(header::CONTENT_LENGTH, body.len())
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::DATE, date())
        .header(header::CONNECTION, "keep-alive");
    build(b, Bytes::from(body), false)
}
