//! Request bodies: whole, or trickled in small chunks with pauses (the "slow body"
//! impairment, which shows how an ACS copes with CPEs on poor links holding its sockets open).

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body as HttpBody, Frame, SizeHint};
use tokio::time::Sleep;

pub enum Body {
    Full(Option<Bytes>),
    Trickle {
        data: Bytes,
        chunk: usize,
        delay: Duration,
        sleep: Option<Pin<Box<Sleep>>>,
    },
}

impl Body {
    pub fn full(data: Bytes) -> Body {
        Body::Full((!data.is_empty()).then_some(data))
    }

    /// `data` sent `chunk` bytes at a time, `delay` apart.
    pub fn trickle(data: Bytes, chunk: usize, delay: Duration) -> Body {
        Body::Trickle {
            data,
            chunk: chunk.max(1),
            delay,
            sleep: None,
        }
    }
}

impl HttpBody for Body {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        match self.get_mut() {
            Body::Full(data) => Poll::Ready(data.take().map(|d| Ok(Frame::data(d)))),
            Body::Trickle {
                data,
                chunk,
                delay,
                sleep,
            } => {
                if data.is_empty() {
                    return Poll::Ready(None);
                }
                if let Some(s) = sleep.as_mut() {
                    if s.as_mut().poll(cx).is_pending() {
                        return Poll::Pending;
                    }
                }
                let n = (*chunk).min(data.len());
                let part = data.split_to(n);
                *sleep = Some(Box::pin(tokio::time::sleep(*delay)));
                Poll::Ready(Some(Ok(Frame::data(part))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            Body::Full(d) => d.is_none(),
            Body::Trickle { data, .. } => data.is_empty(),
        }
    }

    fn size_hint(&self) -> SizeHint {
        let n = match self {
            Body::Full(d) => d.as_ref().map_or(0, |b| b.len()),
            Body::Trickle { data, .. } => data.len(),
        };
        SizeHint::with_exact(n as u64)
    }
}

use std::future::Future as _;

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test(start_paused = true)]
    async fn trickle_sends_everything_in_pieces() {
        let t0 = tokio::time::Instant::now();
        let b = Body::trickle(
            Bytes::from_static(b"0123456789"),
            3,
            Duration::from_millis(100),
        );
        assert_eq!(b.size_hint().exact(), Some(10));
        let all = b.collect().await.unwrap().to_bytes();
        assert_eq!(&all[..], b"0123456789");
        // Four pieces, three pauses between them.
        assert!(t0.elapsed() >= Duration::from_millis(300));
        let f = Body::full(Bytes::from_static(b"abc"))
            .collect()
            .await
            .unwrap()
            .to_bytes();
        assert_eq!(&f[..], b"abc");
        assert!(Body::full(Bytes::new()).is_end_stream());
    }
}
