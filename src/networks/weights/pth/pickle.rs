//! A restricted unpickler: a small stack machine for the opcodes and globals
//! `torch.save` writes for a state dict, and nothing else.
//!
//! It never imports or calls anything. `GLOBAL`/`STACK_GLOBAL` resolve to a
//! closed set of [`Global`]s (`collections.OrderedDict`, the
//! `torch._utils._rebuild_*` tensor functions, `torch.*Storage` classes and
//! `torch.<dtype>`); any other name fails there, before any `REDUCE`.
//! `REDUCE` on those globals builds plain descriptions ([`TensorRef`],
//! [`StorageRef`]); `BUILD` is accepted only on a dict (the `_metadata` torch
//! sets on a state dict's `OrderedDict`) and its state is ignored. Objects of
//! other classes (`INST`, `OBJ`, `NEWOBJ`, `EXT*`) and the text opcodes of
//! protocol 0 are refused.
//!
//! Lists and dicts live in an [`Arena`] and the stack holds their ids, so a
//! memoized container shared by `BINGET` is the same object, as in Python,
//! and cycles cost nothing. Tuples are owned values whose nesting depth is
//! limited (a deep tuple could otherwise overflow the stack when dropped);
//! string and byte lengths are checked against the input before allocating,
//! and the memo and mark stack are capped.

use std::collections::HashMap;
use std::rc::Rc;

use super::tensor::{DType, StorageRef, TensorRef};
use super::Limits;

/// A global a state dict may import.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Global {
    /// `collections.OrderedDict`.
    OrderedDict,
    /// `torch._utils._rebuild_tensor(storage, offset, size, stride)`.
    RebuildTensor,
    /// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])`.
    RebuildTensorV2,
    /// `torch._utils._rebuild_tensor_v3(..., hooks, dtype[, metadata])` (dtypes without a storage class).
    RebuildTensorV3,
    /// `torch._utils._rebuild_parameter(data, requires_grad, hooks)`.
    RebuildParameter,
    /// `torch._utils._rebuild_parameter_with_state(data, requires_grad, hooks, state)`.
    RebuildParameterWithState,
    /// A typed storage class, `torch.FloatStorage` etc. (only inside a persistent id).
    StorageClass(DType),
    /// `torch.storage.UntypedStorage` (bytes; `_rebuild_tensor_v3` says the dtype).
    UntypedStorage,
    /// A dtype object, `torch.float32` etc. (an argument of `_rebuild_tensor_v3`).
    Dtype(DType),
}

impl Global {
    /// The allow-list: `None` for everything a state dict does not use.
    fn resolve(module: &str, name: &str) -> Option<Global> {
        let global = match (module, name) {
            ("collections", "OrderedDict") => Global::OrderedDict,
            ("torch._utils", "_rebuild_tensor") => Global::RebuildTensor,
            ("torch._utils", "_rebuild_tensor_v2") => Global::RebuildTensorV2,
            ("torch._utils", "_rebuild_tensor_v3") => Global::RebuildTensorV3,
            ("torch._utils", "_rebuild_parameter") => Global::RebuildParameter,
            ("torch._utils", "_rebuild_parameter_with_state") => Global::RebuildParameterWithState,
            ("torch.storage" | "torch", "UntypedStorage") => Global::UntypedStorage,
            ("torch", name) => {
                if let Some(dtype) = DType::from_storage_class(name) {
                    Global::StorageClass(dtype)
                } else {
                    Global::Dtype(DType::from_dtype_name(name)?)
                }
            }
            _ => return None,
        };
        Some(global)
    }
}

/// A value on the stack or in the memo.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    None,
    Bool(bool),
    Int(i64),
    /// An integer too large for i64: little-endian two's complement bytes.
    BigInt(Rc<[u8]>),
    /// (Its value is only shown, through `Debug`.)
    #[allow(dead_code)]
    Float(f64),
    Str(Rc<str>),
    /// (Its value is only shown, through `Debug`.)
    #[allow(dead_code)]
    Bytes(Rc<[u8]>),
    Tuple(Rc<Tuple>),
    /// An id in [`Arena::lists`].
    List(usize),
    /// An id in [`Arena::dicts`] (`dict` and `OrderedDict` alike).
    Dict(usize),
    Global(Global),
    Storage(Rc<StorageRef>),
    Tensor(Rc<TensorRef>),
}

/// A tuple and its nesting depth (1 + the deepest tuple inside).
#[derive(Debug)]
pub(crate) struct Tuple {
    pub items: Vec<Value>,
    depth: usize,
}

impl Value {
    /// The Python type, for messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::None => "None",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::BigInt(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "str",
            Value::Bytes(_) => "bytes",
            Value::Tuple(_) => "tuple",
            Value::List(_) => "list",
            Value::Dict(_) => "dict",
            Value::Global(_) => "class or function",
            Value::Storage(_) => "storage",
            Value::Tensor(_) => "tensor",
        }
    }

    fn depth(&self) -> usize {
        match self {
            Value::Tuple(t) => t.depth,
            _ => 0,
        }
    }

    fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// The mutable containers of one unpickling.
#[derive(Debug, Default)]
pub(crate) struct Arena {
    /// Lists by id.
    pub lists: Vec<Vec<Value>>,
    /// Dicts by id: items in insertion order (a repeated key appears twice; the
    /// later one wins when read, as in Python).
    pub dicts: Vec<Vec<(Value, Value)>>,
}

/// What one pickle produced.
#[derive(Debug)]
pub(crate) struct Pickled {
    /// The object `STOP` returned.
    pub root: Value,
    /// Its lists and dicts.
    pub arena: Arena,
    /// Every storage a persistent id named, by key, as first named.
    pub storages: HashMap<Rc<str>, Rc<StorageRef>>,
    /// The offset just past `STOP` (the legacy format has several pickles in a row).
    pub end: usize,
}

/// Why unpickling failed (the caller adds the file and which pickle).
#[derive(Debug, PartialEq)]
pub(crate) enum PickleError {
    /// The input ended inside the pickle.
    Truncated { offset: usize },
    /// Wrong types, stack underflow, bad lengths.
    Malformed { offset: usize, reason: String },
    /// An opcode outside the subset.
    Opcode { offset: usize, opcode: u8 },
    /// A global outside the allow-list.
    Global { global: String },
    /// A limit was reached.
    Limit { what: &'static str, limit: u64 },
}

/// Unpickles the pickle starting at `data[start]`.
pub(crate) fn unpickle(data: &[u8], start: usize, limits: &Limits) -> Result<Pickled, PickleError> {
    Machine {
        data,
        pos: start,
        op_at: start,
        limits,
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        arena: Arena::default(),
        storages: HashMap::new(),
    }
    .run()
}

struct Machine<'a> {
    data: &'a [u8],
    pos: usize,
    op_at: usize,
    limits: &'a Limits,
    stack: Vec<Value>,
    marks: Vec<usize>,
    memo: HashMap<u32, Value>,
    arena: Arena,
    storages: HashMap<Rc<str>, Rc<StorageRef>>,
}

type Step<T = ()> = Result<T, PickleError>;

impl Machine<'_> {
    fn run(mut self) -> Step<Pickled> {
        loop {
            self.op_at = self.pos;
            let op = self.byte()?;
            match op {
                0x80 => {
                    // PROTO
                    let version = self.byte()?;
                    if version > 5 {
                        return self.malformed(format!("pickle protocol {version} is unknown"));
                    }
                }
                0x95 => {
                    // FRAME: a length hint; the opcodes follow inline.
                    self.take(8)?;
                }
                b'.' => {
                    // STOP
                    let root = self.pop()?;
                    return Ok(Pickled {
                        root,
                        arena: self.arena,
                        storages: self.storages,
                        end: self.pos,
                    });
                }
                b'(' => {
                    if self.marks.len() >= self.limits.max_depth {
                        return Err(PickleError::Limit {
                            what: "pickle MARK nesting",
                            limit: self.limits.max_depth as u64,
                        });
                    }
                    self.marks.push(self.stack.len());
                }
                b'0' => {
                    self.pop()?;
                }
                b'1' => {
                    self.pop_mark()?;
                }
                b'2' => {
                    let top = self.top()?.clone();
                    self.stack.push(top);
                }
                b'N' => self.stack.push(Value::None),
                0x88 => self.stack.push(Value::Bool(true)),
                0x89 => self.stack.push(Value::Bool(false)),
                b'J' => {
                    let v = i32::from_le_bytes(self.array()?);
                    self.stack.push(Value::Int(v.into()));
                }
                b'K' => {
                    let v = self.byte()?;
                    self.stack.push(Value::Int(v.into()));
                }
                b'M' => {
                    let v = u16::from_le_bytes(self.array()?);
                    self.stack.push(Value::Int(v.into()));
                }
                0x8a => {
                    let n = usize::from(self.byte()?);
                    self.long(n)?;
                }
                0x8b => {
                    let n = self.len_i32()?;
                    self.long(n)?;
                }
                b'G' => {
                    let v = f64::from_be_bytes(self.array()?);
                    self.stack.push(Value::Float(v));
                }
                b'X' => {
                    let n = u32::from_le_bytes(self.array()?) as usize;
                    self.unicode(n)?;
                }
                0x8c => {
                    let n = usize::from(self.byte()?);
                    self.unicode(n)?;
                }
                0x8d => {
                    let n = self.len_u64()?;
                    self.unicode(n)?;
                }
                b'T' => {
                    // BINSTRING (Python 2 str): text when it is UTF-8.
                    let n = self.len_i32()?;
                    self.string(n)?;
                }
                b'U' => {
                    let n = usize::from(self.byte()?);
                    self.string(n)?;
                }
                b'B' => {
                    let n = u32::from_le_bytes(self.array()?) as usize;
                    self.bytes(n)?;
                }
                b'C' => {
                    let n = usize::from(self.byte()?);
                    self.bytes(n)?;
                }
                0x8e => {
                    let n = self.len_u64()?;
                    self.bytes(n)?;
                }
                b')' => self.push_tuple(Vec::new())?,
                b't' => {
                    let items = self.pop_mark()?;
                    self.push_tuple(items)?;
                }
                0x85..=0x87 => {
                    let n = usize::from(op - 0x84);
                    if self.stack.len() < self.floor() + n {
                        return self.malformed("stack underflow".into());
                    }
                    let items = self.stack.split_off(self.stack.len() - n);
                    self.push_tuple(items)?;
                }
                b']' => {
                    let id = self.new_list(Vec::new());
                    self.stack.push(Value::List(id));
                }
                b'l' => {
                    let items = self.pop_mark()?;
                    let id = self.new_list(items);
                    self.stack.push(Value::List(id));
                }
                b'}' => {
                    let id = self.new_dict();
                    self.stack.push(Value::Dict(id));
                }
                b'd' => {
                    let items = self.pop_mark()?;
                    let id = self.new_dict();
                    self.set_items(id, items)?;
                    self.stack.push(Value::Dict(id));
                }
                b'a' => {
                    let v = self.pop()?;
                    let id = self.list_on_top()?;
                    self.arena.lists[id].push(v);
                }
                b'e' => {
                    let items = self.pop_mark()?;
                    let id = self.list_on_top()?;
                    self.arena.lists[id].extend(items);
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    let id = self.dict_on_top()?;
                    self.arena.dicts[id].push((k, v));
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    let id = self.dict_on_top()?;
                    self.set_items(id, items)?;
                }
                b'q' => {
                    let i = self.byte()?;
                    self.memo_put(i.into())?;
                }
                b'r' => {
                    let i = u32::from_le_bytes(self.array()?);
                    self.memo_put(i)?;
                }
                0x94 => {
                    let i = u32::try_from(self.memo.len()).unwrap_or(u32::MAX);
                    self.memo_put(i)?;
                }
                b'h' => {
                    let i = self.byte()?;
                    self.memo_get(i.into())?;
                }
                b'j' => {
                    let i = u32::from_le_bytes(self.array()?);
                    self.memo_get(i)?;
                }
                b'c' => {
                    let module = self.line()?;
                    let name = self.line()?;
                    self.global(&module, &name)?;
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    match (module.as_str(), name.as_str()) {
                        (Some(m), Some(n)) => {
                            let (m, n) = (m.to_owned(), n.to_owned());
                            self.global(&m, &n)?;
                        }
                        _ => {
                            return self.malformed("STACK_GLOBAL needs two strings".into());
                        }
                    }
                }
                b'R' => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    let result = self.reduce(callable, args)?;
                    self.stack.push(result);
                }
                b'b' => {
                    let _state = self.pop()?;
                    match self.top()? {
                        Value::Dict(_) => {} // the state dict's `_metadata`: ignored
                        other => {
                            let t = other.type_name();
                            return self.malformed(format!(
                                "BUILD on a {t}: only a dict's attributes (`_metadata`) are accepted"
                            ));
                        }
                    }
                }
                b'Q' => {
                    let pid = self.pop()?;
                    let storage = self.persistent_load(pid)?;
                    self.stack.push(storage);
                }
                _ => {
                    return Err(PickleError::Opcode {
                        offset: self.op_at,
                        opcode: op,
                    })
                }
            }
        }
    }

    fn malformed<T>(&self, reason: String) -> Step<T> {
        Err(PickleError::Malformed {
            offset: self.op_at,
            reason,
        })
    }

    fn take(&mut self, n: usize) -> Step<&[u8]> {
        match self.pos.checked_add(n) {
            Some(end) if end <= self.data.len() => {
                let bytes = &self.data[self.pos..end];
                self.pos = end;
                Ok(bytes)
            }
            _ => Err(PickleError::Truncated { offset: self.op_at }),
        }
    }

    fn byte(&mut self) -> Step<u8> {
        Ok(self.take(1)?[0])
    }

    fn array<const N: usize>(&mut self) -> Step<[u8; N]> {
        let bytes = self.take(N)?;
        let mut out = [0u8; N];
        out.copy_from_slice(bytes);
        Ok(out)
    }

    fn len_i32(&mut self) -> Step<usize> {
        let n = i32::from_le_bytes(self.array()?);
        match usize::try_from(n) {
            Ok(n) => Ok(n),
            Err(_) => self.malformed(format!("negative length {n}")),
        }
    }

    fn len_u64(&mut self) -> Step<usize> {
        let n = u64::from_le_bytes(self.array()?);
        // Longer than the input: `take` reports the truncation.
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    /// A line of `GLOBAL`, without its newline.
    fn line(&mut self) -> Step<String> {
        const MAX: usize = 256;
        let rest = &self.data[self.pos..];
        let Some(n) = rest.iter().take(MAX + 1).position(|&b| b == b'\n') else {
            return if rest.len() <= MAX {
                Err(PickleError::Truncated { offset: self.op_at })
            } else {
                self.malformed(format!("GLOBAL name longer than {MAX} bytes"))
            };
        };
        let text = match std::str::from_utf8(&rest[..n]) {
            Ok(t) => t.to_owned(),
            Err(_) => return self.malformed("GLOBAL name is not UTF-8".into()),
        };
        self.pos += n + 1;
        Ok(text)
    }

    fn long(&mut self, n: usize) -> Step {
        let bytes = self.take(n)?;
        let value = if n == 0 {
            Value::Int(0)
        } else if n <= 8 {
            // Sign-extend the little-endian two's complement.
            let fill = if bytes[n - 1] & 0x80 != 0 { 0xff } else { 0 };
            let mut full = [fill; 8];
            full[..n].copy_from_slice(bytes);
            Value::Int(i64::from_le_bytes(full))
        } else {
            Value::BigInt(bytes.into())
        };
        self.stack.push(value);
        Ok(())
    }

    fn unicode(&mut self, n: usize) -> Step {
        let bytes = self.take(n)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => {
                let s: Rc<str> = s.into();
                self.stack.push(Value::Str(s));
                Ok(())
            }
            Err(_) => self.malformed("string is not UTF-8".into()),
        }
    }

    fn string(&mut self, n: usize) -> Step {
        let bytes = self.take(n)?;
        let value = match std::str::from_utf8(bytes) {
            Ok(s) => Value::Str(s.into()),
            Err(_) => Value::Bytes(bytes.into()),
        };
        self.stack.push(value);
        Ok(())
    }

    fn bytes(&mut self, n: usize) -> Step {
        let bytes = self.take(n)?;
        let value = Value::Bytes(bytes.into());
        self.stack.push(value);
        Ok(())
    }

    /// The lowest stack index the current mark lets opcodes pop.
    fn floor(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self) -> Step<Value> {
        if self.stack.len() <= self.floor() {
            return self.malformed("stack underflow".into());
        }
        match self.stack.pop() {
            Some(v) => Ok(v),
            None => self.malformed("stack underflow".into()),
        }
    }

    fn top(&self) -> Step<&Value> {
        if self.stack.len() <= self.floor() {
            return self.malformed("stack underflow".into());
        }
        match self.stack.last() {
            Some(v) => Ok(v),
            None => self.malformed("stack underflow".into()),
        }
    }

    fn pop_mark(&mut self) -> Step<Vec<Value>> {
        match self.marks.pop() {
            Some(mark) => Ok(self.stack.split_off(mark)),
            None => self.malformed("no MARK on the stack".into()),
        }
    }

    fn push_tuple(&mut self, items: Vec<Value>) -> Step {
        let depth = 1 + items.iter().map(Value::depth).max().unwrap_or(0);
        if depth > self.limits.max_depth {
            return Err(PickleError::Limit {
                what: "tuple nesting",
                limit: self.limits.max_depth as u64,
            });
        }
        self.stack
            .push(Value::Tuple(Rc::new(Tuple { items, depth })));
        Ok(())
    }

    fn new_list(&mut self, items: Vec<Value>) -> usize {
        self.arena.lists.push(items);
        self.arena.lists.len() - 1
    }

    fn new_dict(&mut self) -> usize {
        self.arena.dicts.push(Vec::new());
        self.arena.dicts.len() - 1
    }

    fn set_items(&mut self, id: usize, items: Vec<Value>) -> Step {
        if items.len() % 2 != 0 {
            return self.malformed("odd number of items for a dict".into());
        }
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            self.arena.dicts[id].push((k, v));
        }
        Ok(())
    }

    fn list_on_top(&self) -> Step<usize> {
        match self.top()? {
            Value::List(id) => Ok(*id),
            other => self.malformed(format!("APPEND to a {}", other.type_name())),
        }
    }

    fn dict_on_top(&self) -> Step<usize> {
        match self.top()? {
            Value::Dict(id) => Ok(*id),
            other => self.malformed(format!("SETITEM on a {}", other.type_name())),
        }
    }

    fn memo_put(&mut self, index: u32) -> Step {
        let value = self.top()?.clone();
        if self.memo.len() >= self.limits.max_memo && !self.memo.contains_key(&index) {
            return Err(PickleError::Limit {
                what: "pickle memo entries",
                limit: self.limits.max_memo as u64,
            });
        }
        self.memo.insert(index, value);
        Ok(())
    }

    fn memo_get(&mut self, index: u32) -> Step {
        match self.memo.get(&index) {
            Some(v) => {
                let v = v.clone();
                self.stack.push(v);
                Ok(())
            }
            None => self.malformed(format!("memo entry {index} was never stored")),
        }
    }

    fn global(&mut self, module: &str, name: &str) -> Step {
        match Global::resolve(module, name) {
            Some(g) => {
                self.stack.push(Value::Global(g));
                Ok(())
            }
            None => Err(PickleError::Global {
                global: format!("{module}.{name}"),
            }),
        }
    }

    fn reduce(&mut self, callable: Value, args: Value) -> Step<Value> {
        let Value::Global(global) = callable else {
            return self.malformed(format!("REDUCE calls a {}", callable.type_name()));
        };
        let Value::Tuple(args) = args else {
            return self.malformed(format!("REDUCE arguments are a {}", args.type_name()));
        };
        let args = &args.items;
        match global {
            Global::OrderedDict => {
                if !args.is_empty() {
                    return self.malformed("OrderedDict(...) with arguments".into());
                }
                Ok(Value::Dict(self.new_dict()))
            }
            Global::RebuildTensor => {
                if args.len() != 4 {
                    return self.arity("_rebuild_tensor", 4, args.len());
                }
                self.tensor(args, None, None)
            }
            Global::RebuildTensorV2 => {
                if !(6..=7).contains(&args.len()) {
                    return self.arity("_rebuild_tensor_v2", 6, args.len());
                }
                self.tensor(args, None, args.get(6))
            }
            Global::RebuildTensorV3 => {
                if !(7..=8).contains(&args.len()) {
                    return self.arity("_rebuild_tensor_v3", 7, args.len());
                }
                let Value::Global(Global::Dtype(dtype)) = args[6] else {
                    return self.malformed(format!(
                        "_rebuild_tensor_v3 dtype is a {}",
                        args[6].type_name()
                    ));
                };
                self.tensor(args, Some(dtype), args.get(7))
            }
            Global::RebuildParameter | Global::RebuildParameterWithState => {
                let n = if global == Global::RebuildParameter {
                    3
                } else {
                    4
                };
                if args.len() != n {
                    return self.arity("_rebuild_parameter", n, args.len());
                }
                match &args[0] {
                    t @ Value::Tensor(_) => Ok(t.clone()),
                    other => {
                        let t = other.type_name();
                        self.malformed(format!("_rebuild_parameter of a {t}"))
                    }
                }
            }
            Global::StorageClass(_) | Global::UntypedStorage | Global::Dtype(_) => {
                self.malformed("REDUCE calls a storage class or dtype".into())
            }
        }
    }

    fn arity<T>(&self, function: &str, expected: usize, got: usize) -> Step<T> {
        self.malformed(format!("{function} takes {expected} arguments, got {got}"))
    }

    /// `_rebuild_tensor*(storage, storage_offset, size, stride, ...)`.
    fn tensor(
        &self,
        args: &[Value],
        dtype: Option<DType>,
        metadata: Option<&Value>,
    ) -> Step<Value> {
        let Value::Storage(storage) = &args[0] else {
            return self.malformed(format!(
                "tensor storage is a {}, not a persistent storage",
                args[0].type_name()
            ));
        };
        let Value::Int(offset) = args[1] else {
            return self.malformed(format!("storage offset is a {}", args[1].type_name()));
        };
        let shape = self.int_tuple(&args[2], "size")?;
        let stride = self.int_tuple(&args[3], "stride")?;
        let dtype = match dtype {
            None => storage.dtype,
            Some(d)
                if storage.dtype
                    == DType::Other {
                        name: "uint8",
                        size: 1,
                    } =>
            {
                d
            }
            Some(d) if storage.dtype == d => d,
            Some(_) => {
                return self.malformed("_rebuild_tensor_v3 over a typed storage".into());
            }
        };
        let mut neg = false;
        let mut unsupported_flag = None;
        match metadata {
            None | Some(Value::None) => {}
            Some(Value::Dict(id)) => {
                for (k, v) in &self.arena.dicts[*id] {
                    let on = matches!(v, Value::Bool(true));
                    match k.as_str() {
                        Some("neg") => neg = on,
                        Some(flag) if on => unsupported_flag = Some(flag.to_owned()),
                        _ => {}
                    }
                }
            }
            Some(other) => {
                let t = other.type_name();
                return self.malformed(format!("tensor metadata is a {t}"));
            }
        }
        Ok(Value::Tensor(Rc::new(TensorRef {
            storage: storage.clone(),
            dtype,
            offset,
            shape,
            stride,
            neg,
            unsupported_flag,
        })))
    }

    fn int_tuple(&self, v: &Value, what: &str) -> Step<Vec<i64>> {
        let items = match v {
            Value::Tuple(t) => &t.items,
            Value::List(id) => &self.arena.lists[*id],
            other => return self.malformed(format!("tensor {what} is a {}", other.type_name())),
        };
        items
            .iter()
            .map(|x| match x {
                Value::Int(i) => Ok(*i),
                other => self.malformed(format!("tensor {what} holds a {}", other.type_name())),
            })
            .collect()
    }

    /// `('storage', storage_class, key, location, numel[, view_metadata])`.
    fn persistent_load(&mut self, pid: Value) -> Step<Value> {
        let Value::Tuple(pid) = pid else {
            return self.malformed(format!("persistent id is a {}", pid.type_name()));
        };
        let items = &pid.items;
        match items.first().and_then(Value::as_str) {
            Some("storage") => {}
            Some("module") => return self.malformed(
                "persistent id of a pickled nn.Module class (torch.save(model), not a state dict)"
                    .into(),
            ),
            _ => return self.malformed("persistent id is not ('storage', ...)".into()),
        }
        if !(5..=6).contains(&items.len()) {
            return self.malformed(format!(
                "storage persistent id has {} items, expected 5 or 6",
                items.len()
            ));
        }
        let dtype = match items[1] {
            Value::Global(Global::StorageClass(d)) => d,
            Value::Global(Global::UntypedStorage) => DType::Other {
                name: "uint8",
                size: 1,
            },
            ref other => {
                let t = other.type_name();
                return self.malformed(format!("storage class is a {t}"));
            }
        };
        let key: Rc<str> = match &items[2] {
            Value::Str(s) => s.clone(),
            Value::Int(i) => i.to_string().into(),
            other => return self.malformed(format!("storage key is a {}", other.type_name())),
        };
        let numel = match items[4] {
            Value::Int(n) if n >= 0 => n as u64,
            ref other => {
                let t = other.type_name();
                return self.malformed(format!("storage size is a {t} (or negative)"));
            }
        };
        let view = match items.get(5) {
            None | Some(Value::None) => None,
            Some(Value::Tuple(t)) => match t.items.as_slice() {
                [_, Value::Int(offset), Value::Int(size)] if *offset >= 0 && *size >= 0 => {
                    Some((*offset as u64, *size as u64))
                }
                _ => {
                    return self
                        .malformed("storage view metadata is not (key, offset, size)".into())
                }
            },
            Some(other) => {
                let t = other.type_name();
                return self.malformed(format!("storage view metadata is a {t}"));
            }
        };
        let storage = Rc::new(StorageRef {
            key: key.clone(),
            dtype,
            numel,
            view,
        });
        self.storages.entry(key).or_insert_with(|| storage.clone());
        Ok(Value::Storage(storage))
    }
}

/// pickletools' name of an opcode, for messages.
pub(crate) fn opcode_name(op: u8) -> &'static str {
    match op {
        b'(' => "MARK",
        b'.' => "STOP",
        b'0' => "POP",
        b'1' => "POP_MARK",
        b'2' => "DUP",
        b'F' => "FLOAT",
        b'I' => "INT",
        b'J' => "BININT",
        b'K' => "BININT1",
        b'L' => "LONG",
        b'M' => "BININT2",
        b'N' => "NONE",
        b'P' => "PERSID",
        b'Q' => "BINPERSID",
        b'R' => "REDUCE",
        b'S' => "STRING",
        b'T' => "BINSTRING",
        b'U' => "SHORT_BINSTRING",
        b'V' => "UNICODE",
        b'X' => "BINUNICODE",
        b'a' => "APPEND",
        b'b' => "BUILD",
        b'c' => "GLOBAL",
        b'd' => "DICT",
        b'}' => "EMPTY_DICT",
        b'e' => "APPENDS",
        b'g' => "GET",
        b'h' => "BINGET",
        b'i' => "INST",
        b'j' => "LONG_BINGET",
        b'l' => "LIST",
        b']' => "EMPTY_LIST",
        b'o' => "OBJ",
        b'p' => "PUT",
        b'q' => "BINPUT",
        b'r' => "LONG_BINPUT",
        b's' => "SETITEM",
        b't' => "TUPLE",
        b')' => "EMPTY_TUPLE",
        b'u' => "SETITEMS",
        b'G' => "BINFLOAT",
        0x80 => "PROTO",
        0x81 => "NEWOBJ",
        0x82 => "EXT1",
        0x83 => "EXT2",
        0x84 => "EXT4",
        0x85 => "TUPLE1",
        0x86 => "TUPLE2",
        0x87 => "TUPLE3",
        0x88 => "NEWTRUE",
        0x89 => "NEWFALSE",
        0x8a => "LONG1",
        0x8b => "LONG4",
        b'B' => "BINBYTES",
        b'C' => "SHORT_BINBYTES",
        0x8c => "SHORT_BINUNICODE",
        0x8d => "BINUNICODE8",
        0x8e => "BINBYTES8",
        0x8f => "EMPTY_SET",
        0x90 => "ADDITEMS",
        0x91 => "FROZENSET",
        0x92 => "NEWOBJ_EX",
        0x93 => "STACK_GLOBAL",
        0x94 => "MEMOIZE",
        0x95 => "FRAME",
        0x96 => "BYTEARRAY8",
        0x97 => "NEXT_BUFFER",
        0x98 => "READONLY_BUFFER",
        _ => "an unknown opcode",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(bytes: &[u8]) -> Result<Pickled, PickleError> {
        unpickle(bytes, 0, &Limits::default())
    }

    fn global(module: &str, name: &str) -> Vec<u8> {
        format!("c{module}\n{name}\n").into_bytes()
    }

    fn binunicode(s: &str) -> Vec<u8> {
        let mut out = vec![b'X'];
        out.extend((s.len() as u32).to_le_bytes());
        out.extend(s.as_bytes());
        out
    }

    #[test]
    fn scalars_and_containers() {
        // {'a': [1, -2, 70000, 2**70], 'b': (1.5, None, True), 'c': b'xy'}
        let mut p = vec![0x80, 2, b'}', b'q', 0, b'('];
        p.extend(binunicode("a"));
        p.extend([b']', b'(', b'K', 1, b'J']);
        p.extend((-2i32).to_le_bytes());
        p.extend([b'J']);
        p.extend(70000i32.to_le_bytes());
        p.extend([0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0x40, b'e']);
        p.extend([0x8c, 1, b'b', b'G']);
        p.extend(1.5f64.to_be_bytes());
        p.extend([
            b'N', 0x88, 0x87, 0x8c, 1, b'c', b'C', 2, b'x', b'y', b'u', b'.',
        ]);
        let out = run(&p).unwrap();
        let Value::Dict(id) = out.root else { panic!() };
        let items = &out.arena.dicts[id];
        assert_eq!(items.len(), 3);
        let Value::List(list) = items[0].1 else {
            panic!()
        };
        let list = &out.arena.lists[list];
        assert!(matches!(
            list[..3],
            [Value::Int(1), Value::Int(-2), Value::Int(70000)]
        ));
        assert!(matches!(&list[3], Value::BigInt(b) if b.len() == 9));
        let Value::Tuple(t) = &items[1].1 else {
            panic!()
        };
        assert!(
            matches!(t.items[..], [Value::Float(f), Value::None, Value::Bool(true)] if f == 1.5)
        );
        assert!(matches!(&items[2].1, Value::Bytes(b) if &b[..] == b"xy"));
        assert_eq!(out.end, p.len());
    }

    #[test]
    fn long1_sign_extends() {
        for (bytes, v) in [
            (vec![0x8a, 0], 0i64),
            (vec![0x8a, 1, 0xff], -1),
            (vec![0x8a, 2, 0x00, 0x80], -32768),
            (
                vec![0x8a, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f],
                i64::MAX,
            ),
        ] {
            let mut p = bytes;
            p.push(b'.');
            assert!(
                matches!(run(&p).unwrap().root, Value::Int(x) if x == v),
                "{v}"
            );
        }
    }

    #[test]
    fn memo_shares_containers_like_python() {
        // l = []; d = {'x': l}; l.append(1) via BINGET -> d['x'] sees it.
        let mut p = vec![
            b']', b'q', 0, b'}', 0x8c, 1, b'x', b'h', 0, b's', b'h', 0, b'K', 1,
        ];
        p.extend([b'a', b'0', b'.']);
        let out = run(&p).unwrap();
        let Value::Dict(d) = out.root else { panic!() };
        let Value::List(l) = out.arena.dicts[d][0].1 else {
            panic!()
        };
        assert!(matches!(out.arena.lists[l][..], [Value::Int(1)]));
    }

    #[test]
    fn forbidden_globals_are_refused_before_anything_runs() {
        for (m, n) in [
            ("os", "system"),
            ("builtins", "eval"),
            ("posix", "system"),
            ("subprocess", "Popen"),
            ("torch", "load"),
            ("torch._utils", "_rebuild_qtensor"),
            ("torch.nn.modules.conv", "Conv2d"),
            ("__builtin__", "set"),
            ("collections", "defaultdict"),
        ] {
            let mut p = vec![0x80, 2];
            p.extend(global(m, n));
            p.extend(binunicode("echo pwned"));
            p.extend([0x85, b'R', b'.']);
            assert_eq!(
                run(&p).unwrap_err(),
                PickleError::Global {
                    global: format!("{m}.{n}")
                }
            );
            // The same through STACK_GLOBAL (protocol 4).
            let mut p = vec![0x80, 4];
            p.extend(binunicode(m));
            p.extend(binunicode(n));
            p.extend([0x93, b'.']);
            assert_eq!(
                run(&p).unwrap_err(),
                PickleError::Global {
                    global: format!("{m}.{n}")
                }
            );
        }
    }

    #[test]
    fn object_building_opcodes_are_refused() {
        for op in [
            b'i', b'o', 0x81, 0x92, 0x82, b'S', b'I', b'p', b'g', b'P', 0x8f, 0x97, b'V',
        ] {
            let p = [b'(', op, b'.'];
            assert_eq!(
                run(&p).unwrap_err(),
                PickleError::Opcode {
                    offset: 1,
                    opcode: op
                },
                "{}",
                opcode_name(op)
            );
        }
    }

    #[test]
    fn misuse_is_malformed_not_a_panic() {
        let cases: &[&[u8]] = &[
            b"R.",                         // REDUCE on an empty stack
            b"K\x01K\x02R.",               // call an int
            b"K\x01K\x02s.",               // SETITEM on an int
            b"(K\x01s.",                   // SETITEM below the mark
            b"t.",                         // TUPLE without a mark
            b"h\x05.",                     // memo entry never stored
            b"]K\x01b.",                   // BUILD on a list
            b"}(K\x01u.",                  // odd SETITEMS
            b"\x80\x09.",                  // unknown protocol
            b"K\x01Q.",                    // persistent id that is an int
            b"X\x02\x00\x00\x00\xff\xfe.", // invalid UTF-8
            b"T\xff\xff\xff\xff.",         // negative BINSTRING length
            b".",                          // STOP on an empty stack
        ];
        for case in cases {
            assert!(
                matches!(run(case), Err(PickleError::Malformed { .. })),
                "{case:?}: {:?}",
                run(case)
            );
        }
        for case in [
            &b"X\xff\xff\xff\x7f"[..],
            b"\x8d\xff\xff\xff\xff\xff\xff\xff\xff",
            b"K",
            b"",
            b"cos\nsys",
        ] {
            assert!(
                matches!(run(case), Err(PickleError::Truncated { .. })),
                "{case:?}"
            );
        }
    }

    #[test]
    fn limits_hold() {
        let deep: Vec<u8> = std::iter::once(b'K')
            .chain(std::iter::once(1))
            .chain(std::iter::repeat_n(0x85, 100_000))
            .chain(std::iter::once(b'.'))
            .collect();
        assert!(matches!(
            run(&deep),
            Err(PickleError::Limit {
                what: "tuple nesting",
                ..
            })
        ));
        let marks = vec![b'('; 100_000];
        assert!(matches!(run(&marks), Err(PickleError::Limit { .. })));
        let limits = Limits {
            max_memo: 3,
            ..Limits::default()
        };
        let memo = b"K\x01\x94\x94\x94\x94.";
        assert!(matches!(
            unpickle(memo, 0, &limits),
            Err(PickleError::Limit {
                what: "pickle memo entries",
                ..
            })
        ));
        // A huge memo index is a map key, not an allocation.
        assert!(run(b"K\x01r\xff\xff\xff\xffj\xff\xff\xff\xff.").is_ok());
    }
}
