//! The Protocol Buffers wire format, as much of it as ONNX models need.
//!
//! A message is written in two passes over one description: [`Message::write`]
//! lists its fields into a [`Sink`], once into a [`Size`] counter (to learn
//! the length prefix a parent needs) and once into the output buffer. Sizing
//! a byte field only adds its length, so a model with tens of megabytes of
//! weights is sized without touching them and then copied once into a buffer
//! allocated at its final size — no nested temporary buffers.
//!
//! Fields are written in field-number order with proto2 semantics (repeated
//! scalars unpacked, set fields written even when zero), which is what
//! `onnx`'s Python `SerializeToString` does, so equal models give equal bytes.

/// How a field's value is laid out after its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum WireType {
    /// A base-128 varint (int32, int64, enums).
    Varint = 0,
    /// A varint length, then that many bytes (strings, bytes, messages).
    Len = 2,
    /// Four little-endian bytes (float).
    Fixed32 = 5,
}

/// Where encoded bytes go: the output buffer, or a counter.
pub(crate) trait Sink {
    /// Appends raw bytes.
    fn put(&mut self, bytes: &[u8]);

    /// Appends `value` as a base-128 varint, low groups first.
    fn put_varint(&mut self, mut value: u64) {
        let mut buf = [0u8; 10];
        let mut n = 0;
        while value >= 0x80 {
            buf[n] = (value as u8) | 0x80;
            value >>= 7;
            n += 1;
        }
        buf[n] = value as u8;
        self.put(&buf[..=n]);
    }

    /// A field key: `field << 3 | wire type`.
    fn key(&mut self, field: u32, wire: WireType) {
        self.put_varint((u64::from(field) << 3) | wire as u64);
    }

    /// An int64, int32 or enum field. Negative values take ten bytes (two's
    /// complement as u64), for int32 too, as protobuf specifies.
    fn int(&mut self, field: u32, value: i64) {
        self.key(field, WireType::Varint);
        self.put_varint(value as u64);
    }

    /// A float field.
    fn float(&mut self, field: u32, value: f32) {
        self.key(field, WireType::Fixed32);
        self.put(&value.to_le_bytes());
    }

    /// A bytes or string field.
    fn bytes(&mut self, field: u32, value: &[u8]) {
        self.key(field, WireType::Len);
        self.put_varint(value.len() as u64);
        self.put(value);
    }

    /// An embedded message field: its encoded length, then its fields.
    fn message<M: Message + ?Sized>(&mut self, field: u32, value: &M)
    where
        Self: Sized,
    {
        self.key(field, WireType::Len);
        self.put_varint(value.encoded_len() as u64);
        value.write(self);
    }
}

impl Sink for Vec<u8> {
    fn put(&mut self, bytes: &[u8]) {
        self.extend_from_slice(bytes);
    }
}

/// A sink that only counts bytes.
#[derive(Debug, Default)]
pub(crate) struct Size(pub(crate) usize);

impl Sink for Size {
    fn put(&mut self, bytes: &[u8]) {
        self.0 += bytes.len();
    }
}

/// A protobuf message: one description of its fields, used for sizing and
/// for writing.
pub(crate) trait Message {
    /// Writes the fields (not a key or length for the message itself).
    fn write<S: Sink>(&self, sink: &mut S);

    /// The number of bytes [`Message::write`] produces.
    fn encoded_len(&self) -> usize {
        let mut size = Size(0);
        self.write(&mut size);
        size.0
    }

    /// The encoded message in a buffer of exactly its size.
    fn encode_to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        self.write(&mut out);
        debug_assert_eq!(out.len(), out.capacity());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(value: u64) -> Vec<u8> {
        let mut out = Vec::new();
        out.put_varint(value);
        out
    }

    #[test]
    fn varints_match_the_protobuf_examples() {
        assert_eq!(varint(0), [0x00]);
        assert_eq!(varint(1), [0x01]);
        assert_eq!(varint(127), [0x7f]);
        assert_eq!(varint(128), [0x80, 0x01]);
        // The protobuf documentation's example: 150 -> 96 01.
        assert_eq!(varint(150), [0x96, 0x01]);
        assert_eq!(varint(300), [0xac, 0x02]);
        assert_eq!(
            varint(u64::MAX),
            [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
        );
    }

    #[test]
    fn fields_have_keys_and_payloads() {
        let mut out = Vec::new();
        out.int(1, 150);
        assert_eq!(out, [0x08, 0x96, 0x01]);

        let mut out = Vec::new();
        out.int(3, -1);
        let mut expected = vec![0x18];
        expected.extend([0xff; 9]);
        expected.push(0x01);
        assert_eq!(out, expected);

        let mut out = Vec::new();
        out.bytes(2, b"testing");
        assert_eq!(out, b"\x12\x07testing");

        let mut out = Vec::new();
        out.float(2, 1.5);
        assert_eq!(out, [0x15, 0x00, 0x00, 0xc0, 0x3f]);

        // A field number above 15 needs a two-byte key.
        let mut out = Vec::new();
        out.int(20, 7);
        assert_eq!(out, [0xa0, 0x01, 0x07]);
    }

    struct Pair<'a>(&'a [u8], i64);

    impl Message for Pair<'_> {
        fn write<S: Sink>(&self, sink: &mut S) {
            sink.bytes(1, self.0);
            sink.int(2, self.1);
        }
    }

    struct Outer<'a>(Vec<Pair<'a>>);

    impl Message for Outer<'_> {
        fn write<S: Sink>(&self, sink: &mut S) {
            for pair in &self.0 {
                sink.message(1, pair);
            }
        }
    }

    #[test]
    fn nested_messages_are_length_prefixed_and_sized_exactly() {
        let big = vec![7u8; 200];
        let outer = Outer(vec![Pair(b"ab", 1), Pair(&big, -2)]);
        let bytes = outer.encode_to_vec();
        assert_eq!(bytes.len(), outer.encoded_len());
        assert_eq!(bytes[..8], [0x0a, 0x06, 0x0a, 0x02, b'a', b'b', 0x10, 0x01]);
        // The second pair: key, 2-byte length and 200 bytes, then key and a
        // 10-byte negative int: 214 bytes, a 2-byte length itself.
        assert_eq!(bytes[8..11], [0x0a, 0xd6, 0x01]);
        assert_eq!(bytes.len(), 8 + 3 + 214);
    }
}
