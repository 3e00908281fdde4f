;; Scenario `write_full_pipe` in raw WAT, no libc: fd_fdstat_set_flags(2, NONBLOCK), then
;; 5000-byte fd_write(2)s until one fails, each reported as a `WB` line on stdout.
;; Exits 1 without writing when the flag cannot be set.
(module
  (import "wasi_snapshot_preview1" "fd_write"
    (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_fdstat_set_flags"
    (func $fd_fdstat_set_flags (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)

  ;; Layout: 0..16 iovec scratch, 16..24 write iovec, 40 nwritten, 64..96 number scratch,
  ;; 256.. strings, 1024.. errno names in 16-byte slots, 4096..9096 the chunk of 'x'.
  (data (i32.const 256) "WB op=")
  (data (i32.const 272) "fd_fdstat_set_flags")
  (data (i32.const 320) "fd_write")
  (data (i32.const 336) " fd=")
  (data (i32.const 344) " errno=")
  (data (i32.const 352) " name=")
  (data (i32.const 360) " flags=")
  (data (i32.const 368) " n=")
  (data (i32.const 376) " len=")
  (data (i32.const 384) "\n")
  (data (i32.const 1024)
    "\07success\00\00\00\00\00\00\00\00\042big\00\00\00\00\00\00\00\00\00\00\00\05acces\00\00\00\00\00\00\00\00\00\00\09addrinuse\00\00\00\00\00\00"
    "\0caddrnotavail\00\00\00\0bafnosupport\00\00\00\00\05again\00\00\00\00\00\00\00\00\00\00\07already\00\00\00\00\00\00\00\00"
    "\04badf\00\00\00\00\00\00\00\00\00\00\00\06badmsg\00\00\00\00\00\00\00\00\00\04busy\00\00\00\00\00\00\00\00\00\00\00\08canceled\00\00\00\00\00\00\00"
    "\05child\00\00\00\00\00\00\00\00\00\00\0bconnaborted\00\00\00\00\0bconnrefused\00\00\00\00\09connreset\00\00\00\00\00\00"
    "\06deadlk\00\00\00\00\00\00\00\00\00\0bdestaddrreq\00\00\00\00\03dom\00\00\00\00\00\00\00\00\00\00\00\00\05dquot\00\00\00\00\00\00\00\00\00\00"
    "\05exist\00\00\00\00\00\00\00\00\00\00\05fault\00\00\00\00\00\00\00\00\00\00\04fbig\00\00\00\00\00\00\00\00\00\00\00\0bhostunreach\00\00\00\00"
    "\04idrm\00\00\00\00\00\00\00\00\00\00\00\05ilseq\00\00\00\00\00\00\00\00\00\00\0ainprogress\00\00\00\00\00\04intr\00\00\00\00\00\00\00\00\00\00\00"
    "\05inval\00\00\00\00\00\00\00\00\00\00\02io\00\00\00\00\00\00\00\00\00\00\00\00\00\06isconn\00\00\00\00\00\00\00\00\00\05isdir\00\00\00\00\00\00\00\00\00\00"
    "\04loop\00\00\00\00\00\00\00\00\00\00\00\05mfile\00\00\00\00\00\00\00\00\00\00\05mlink\00\00\00\00\00\00\00\00\00\00\07msgsize\00\00\00\00\00\00\00\00"
    "\08multihop\00\00\00\00\00\00\00\0bnametoolong\00\00\00\00\07netdown\00\00\00\00\00\00\00\00\08netreset\00\00\00\00\00\00\00"
    "\0anetunreach\00\00\00\00\00\05nfile\00\00\00\00\00\00\00\00\00\00\06nobufs\00\00\00\00\00\00\00\00\00\05nodev\00\00\00\00\00\00\00\00\00\00"
    "\05noent\00\00\00\00\00\00\00\00\00\00\06noexec\00\00\00\00\00\00\00\00\00\05nolck\00\00\00\00\00\00\00\00\00\00\06nolink\00\00\00\00\00\00\00\00\00"
    "\05nomem\00\00\00\00\00\00\00\00\00\00\05nomsg\00\00\00\00\00\00\00\00\00\00\0anoprotoopt\00\00\00\00\00\05nospc\00\00\00\00\00\00\00\00\00\00"
    "\05nosys\00\00\00\00\00\00\00\00\00\00\07notconn\00\00\00\00\00\00\00\00\06notdir\00\00\00\00\00\00\00\00\00\08notempty\00\00\00\00\00\00\00"
    "\0enotrecoverable\00\07notsock\00\00\00\00\00\00\00\00\06notsup\00\00\00\00\00\00\00\00\00\05notty\00\00\00\00\00\00\00\00\00\00"
    "\04nxio\00\00\00\00\00\00\00\00\00\00\00\08overflow\00\00\00\00\00\00\00\09ownerdead\00\00\00\00\00\00\04perm\00\00\00\00\00\00\00\00\00\00\00"
    "\04pipe\00\00\00\00\00\00\00\00\00\00\00\05proto\00\00\00\00\00\00\00\00\00\00\0eprotonosupport\00\09prototype\00\00\00\00\00\00"
    "\05range\00\00\00\00\00\00\00\00\00\00\04rofs\00\00\00\00\00\00\00\00\00\00\00\05spipe\00\00\00\00\00\00\00\00\00\00\04srch\00\00\00\00\00\00\00\00\00\00\00"
    "\05stale\00\00\00\00\00\00\00\00\00\00\08timedout\00\00\00\00\00\00\00\06txtbsy\00\00\00\00\00\00\00\00\00\04xdev\00\00\00\00\00\00\00\00\00\00\00"
    "\0anotcapable\00\00\00\00\00"
  )

  ;; Writes memory[ptr, ptr+len) to stdout.
  (func $print (param $ptr i32) (param $len i32)
    (i32.store (i32.const 0) (local.get $ptr))
    (i32.store (i32.const 4) (local.get $len))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))

  ;; Writes an unsigned decimal number to stdout.
  (func $print_num (param $n i32)
    (local $p i32)
    (local.set $p (i32.const 96))
    (loop $digits
      (local.set $p (i32.sub (local.get $p) (i32.const 1)))
      (i32.store8 (local.get $p)
        (i32.add (i32.const 48) (i32.rem_u (local.get $n) (i32.const 10))))
      (local.set $n (i32.div_u (local.get $n) (i32.const 10)))
      (br_if $digits (local.get $n)))
    (call $print (local.get $p) (i32.sub (i32.const 96) (local.get $p))))

  ;; Writes `WB op=<op> fd=<fd> errno=<e> name=<name>`, without the newline.
  (func $report (param $op i32) (param $op_len i32) (param $fd i32) (param $errno i32)
    (local $slot i32)
    (call $print (i32.const 256) (i32.const 6))
    (call $print (local.get $op) (local.get $op_len))
    (call $print (i32.const 336) (i32.const 4))
    (call $print_num (local.get $fd))
    (call $print (i32.const 344) (i32.const 7))
    (call $print_num (local.get $errno))
    (call $print (i32.const 352) (i32.const 6))
    (local.set $slot (i32.add (i32.const 1024) (i32.shl (local.get $errno) (i32.const 4))))
    (call $print (i32.add (local.get $slot) (i32.const 1)) (i32.load8_u (local.get $slot))))

  (func $newline (call $print (i32.const 384) (i32.const 1)))

  (func (export "_start")
    (local $e i32)
    (local $i i32)
    (local.set $e (call $fd_fdstat_set_flags (i32.const 2) (i32.const 4)))
    (call $report (i32.const 272) (i32.const 19) (i32.const 2) (local.get $e))
    (call $print (i32.const 360) (i32.const 7))
    (call $print_num (i32.const 4))
    (call $newline)
    (if (local.get $e) (then (call $proc_exit (i32.const 1))))
    (memory.fill (i32.const 4096) (i32.const 120) (i32.const 5000))
    (block $done
      (loop $writes
        (i32.store (i32.const 16) (i32.const 4096))
        (i32.store (i32.const 20) (i32.const 5000))
        (local.set $e (call $fd_write (i32.const 2) (i32.const 16) (i32.const 1) (i32.const 40)))
        (call $report (i32.const 320) (i32.const 8) (i32.const 2) (local.get $e))
        (call $print (i32.const 376) (i32.const 5))
        (call $print_num (i32.const 5000))
        (if (i32.eqz (local.get $e))
          (then
            (call $print (i32.const 368) (i32.const 3))
            (call $print_num (i32.load (i32.const 40)))))
        (call $newline)
        (br_if $done (local.get $e))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $writes (i32.lt_u (local.get $i) (i32.const 16))))))
)
