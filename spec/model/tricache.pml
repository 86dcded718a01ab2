/*
 * tricache, at the level of spec/PROTOCOL.md: the three-phase commit with
 * Skeen timestamps (R-VOTE-*, R-PRECOMMIT, R-PC-ACCEPT, R-DOCOMMIT, R-DELIVER)
 * and the view change as one Paxos instance per epoch choosing an
 * epoch-closing record (R-VC-*), under lost/delayed/duplicated messages,
 * one-way link cuts, crashes (volatile state lost, new incarnation) and
 * restarts. spec/README.md says what is abstracted and maps names to C++.
 *
 * One process, `world`; every step is one d_step, so a step is one
 * transition and no intermediate state is stored. Messages are immutable
 * facts (see README): a receiver may read a fact whenever the link from its
 * sender is up, any number of times, or never (loss). Every step's guard
 * requires that it changes the state, so there are no idle self-loops: once
 * the environment is calm the graph is acyclic and every run ends in a state
 * where nothing is enabled, which is what the liveness claim inspects.
 *
 * Parameters (-D): N (3 or 5), NSTART (1 or 2 transactions), PROPOSERS (mask
 * of nodes that may start a view change), MAXE (epochs, 2..3), MAXB (ballot
 * counters before calm), CALMB (extra counters after calm), CRASHES, CUTS
 * (fault budgets), TXMAXE (last epoch in which a transaction starts),
 * OVERLOAD (members may vote no for a named reason), LIVE (the environment may
 * turn calm; needed by the liveness claim). MUT_* break one rule each;
 * NO_P8 drops the P8 assertions (to see what a mutant breaks next).
 */
#ifndef N
#define N 3
#endif
#define NTX 2               /* transaction t is coordinated by node t */
#ifndef MAXE
#define MAXE 2
#endif
#ifndef MAXB
#define MAXB 1
#endif
#ifndef CALMB
#define CALMB 2
#endif
#ifndef CRASHES
#define CRASHES 1
#endif
#ifndef CUTS
#define CUTS 0
#endif
#ifndef NSTART
#define NSTART 2            /* how many of the two transactions may start */
#endif
#ifndef PROPOSERS
#define PROPOSERS 6         /* mask of nodes that may start a view change */
#endif
#ifndef TXMAXE
#define TXMAXE 1
#endif
#define MAXC (30/N - 1)     /* clock counter bound: a timestamp fits 5 bits */

#ifdef MUT_MINQ
#define MAJ (N/2)           /* mutation: a minority quorum */
#else
#define MAJ (N/2+1)         /* majority(C) */
#endif

/* transaction record states (TxState) */
#define W  1
#define PC 2
#define CM 3                /* committed, not yet delivered */
#define AB 4
#define DL 5                /* committed and delivered */
#define UNDEC(s) ((s) == W || (s) == PC)
#define ISC(s)   ((s) == CM || (s) == DL)
/* NodeStatus */
#define NORMAL 1
#define VC     2
#define SYNC   3
#define JOIN   4
/* votes, decisions, coordinator phases */
#define YES 1
#define NO  2
#define COMMIT 1
#define ABORT  2
#define VOTING 1
#define PRECOMMITTING 2
#define DECIDED 3

/* timestamps and ballots: (counter, node) as counter*N+node, so integer order
 * is the lexicographic order */
#define TS(c,n)  ((c)*N + (n))
#define CNT(x)   ((x) / N)
/* a view's members: 2 bits per node = its incarnation, 0 = not a member */
#define VINC(v,q) (((v) >> (2*(q))) & 3)
/* an ECR: closes (2 bits); per tx: commit bit, f (5 bits); next members */
#define E_CL(v)    ((v) & 3)
#define E_COM(v,t) (((v) >> (2+6*(t))) & 1)
#define E_F(v,t)   (((v) >> (3+6*(t))) & 31)
#define E_MEM(v)   ((v) >> (2+6*NTX))
/* reports in a promise, and the proposer's aggregate: 8 bits per tx */
#define R_ST(r,t)  (((r) >> (8*(t))) & 7)
#define R_F(r,t)   (((r) >> (8*(t)+3)) & 31)
#define G_C  1
#define G_PC 2
#define G_A  4
/* a delivered log: 2 bits per entry (t+1), oldest first */
#define LG_LEN(l)  ((l) == 0 -> 0 : (((l) >> 2) == 0 -> 1 : 2))
#define IX(n,t)    ((n)*NTX + (t))

/* ------------------------------------------------------------ node state */
bit  up[N];
byte inc[N];        /* incarnation_ */
byte st[N];         /* status_ */
bit  fst[N];       /* full_state_ */
bit  amn[N];        /* amnesiac_ */
byte ep[N];         /* view_.epoch; 0 = nothing installed */
short myv[N];       /* view_.members */
byte clk[N];        /* clock_ (counter) */
byte vprom[N];      /* vc_promised_ */
byte vseen[N];      /* vc_counter_seen_ */
byte vaccb[N];      /* vc_accepted_ballot_ */
int  vacce[N];      /* vc_accepted_ecr_ */
byte lg[N];         /* the delivered log */
byte fz[N];         /* frozen_snapshot_ (its log) */
byte tst[N*NTX];    /* txs_[t].state */
byte tk[N*NTX];     /* key: proposed, then final_ts */
/* proposer_ (Engine::Proposal) */
byte pb[N];         /* ballot; 0 = none */
bit  pacc[N];       /* accepting */
byte pprom[N];      /* promisers (mask) */
short pmem[N];      /* promisers at their incarnations */
int pagg[N];      /* reports seen (G_* and f per tx) */
byte pbb[N];        /* highest accepted ballot reported */
int  pbe[N];        /*   its ECR */
int  pecr[N];       /* the ECR proposed */
byte pad[N];        /* VcAccepted from (mask) */
/* coordinator (CoordTx) of tx t at node t */
byte cph[NTX];

/* ------------------------------------------------------------ facts
 * x-slots hold the latest message of a kind from one sender; a newer one
 * overwrites the older, which is then lost. */
bit  started[NTX];  byte txep[NTX]; byte txinc[NTX]; short txv[NTX];  /* CanCommit */
byte vote[NTX*N];   byte vts[NTX*N];     /* Vote(t, yes/no, ts) from each node */
byte pcf[NTX];                           /* PreCommit(t, b0, f) */
byte ackm[NTX];                          /* Ack(t, b0): senders */
byte dec[NTX];                           /* DoCommit(t, f) / DoAbort(t) */
byte pp[N]; byte ptg[N]; byte ppi[N];    /* VcPrepare(b, target) */
byte prb[N]; int prr[N]; byte prab[N]; int prae[N]; byte pri[N]; bit prx[N]; /* VcPromise */
byte axb[N]; int axe[N]; byte axi[N];    /* VcAccept(b, ecr) */
byte adb[N]; byte adi[N]; bit adx[N];    /* VcAccepted(b) */
byte jreq[N];                            /* JoinReq, with the incarnation */
int  nv[MAXE+1]; byte nvs[MAXE+1]; byte nvi[MAXE+1];   /* NewView(ecr) of instance e */

/* ------------------------------------------------------------ environment */
bit  cut[N*N];      /* link a->b cut */
byte crashes;
byte cuts;
bit  calm;          /* no fault from now on; every link healed */

/* ------------------------------------------------------------ ghosts */
bit  everC[NTX]; bit everA[NTX]; byte everF[NTX];
byte ord;           /* 1: t0 before t1 in some log; 2: t1 before t0 */
byte snap[MAXE+1]; bit snapset[MAXE+1];

#define LINK(s,r)     ((s) == (r) || !cut[(s)*N + (r)])
/* a fact from sender s (incarnation xi) readable at r; once calm, only from a
 * live sender, which would resend it (R-RESEND, R-DECISION-RESEND) */
#define RD(s,xi,r)    (up[r] && LINK(s,r) && (!calm || (up[s] && inc[s] == (xi))))
#define RDV(s,r)      (up[r] && LINK(s,r))

/* ---- sums over nodes, for guards (cpp has no loops) */
#if N == 3
#define SUMN(M,a)   (M(a,0) + M(a,1) + M(a,2))
#define SUMN2(M,a,b) (M(a,b,0) + M(a,b,1) + M(a,b,2))
#define FORN(M)     M(0) M(1) M(2)
#define ROW(M,a)    M(a,0) M(a,1) M(a,2)
#define FORNN(M)    ROW(M,0) ROW(M,1) ROW(M,2)
#elif N == 5
#define SUMN(M,a)   (M(a,0) + M(a,1) + M(a,2) + M(a,3) + M(a,4))
#define SUMN2(M,a,b) (M(a,b,0) + M(a,b,1) + M(a,b,2) + M(a,b,3) + M(a,b,4))
#define FORN(M)     M(0) M(1) M(2) M(3) M(4)
#define ROW(M,a)    M(a,0) M(a,1) M(a,2) M(a,3) M(a,4)
#define FORNN(M)    ROW(M,0) ROW(M,1) ROW(M,2) ROW(M,3) ROW(M,4)
#else
#error "N must be 3 or 5"
#endif
#define TROW(M,p)   M(p,0) M(p,1)
#define FORNT(M)    FORN_T(M)
#if N == 3
#define FORN_T(M)   TROW(M,0) TROW(M,1) TROW(M,2)
#else
#define FORN_T(M)   TROW(M,0) TROW(M,1) TROW(M,2) TROW(M,3) TROW(M,4)
#endif
#define FORT(M)     M(0) M(1)

#define ISMEM(v,q)        (VINC(v,q) != 0)
#define YESQ(t,q)         (VINC(txv[t],q) != 0 && vote[(t)*N+(q)] == YES && RDV(q,t))
#define NOQ(t,q)          (vote[(t)*N+(q)] == NO && RDV(q,t))
#define ACKQ(t,q)         (VINC(txv[t],q) != 0 && ((ackm[t] >> (q)) & 1) && RDV(q,t))
#define KNOWS(p,t,q)      ((q) != (p) && up[q] && LINK(q,p) && ep[q] == ep[p] && \
                           (ISC(tst[IX(q,t)]) || tst[IX(q,t)] == AB))
#define LIVEP(a,q)        (up[q] && pb[q] != 0)
#define SERVES(n,a)       (up[a] && !amn[a] && vprom[a] <= pb[n] && ep[a] <= ep[n])
#define DONOR(p,q)        ((q) != (p) && up[q] && LINK(q,p) && ep[q] == ep[p] && fst[q] && \
                           (st[q] == NORMAL || st[q] == VC))
#define PUSHER(p,e,q)     (up[q] && LINK(q,p) && ep[q] == (e)+1)
#define BIT(m,q)          (((m) >> (q)) & 1)
#define ONE(m,q)          BIT(m,q)
#define POP(m)            SUMN(ONE,m)
#define NEXTCNT(n)        ((vseen[n] > CNT(vprom[n]) -> vseen[n] : CNT(vprom[n])) + 1)
#define BUDGETB           (calm -> MAXB + CALMB : MAXB)

/* ------------------------------------------------------------ helpers
 * x? are scratch variables of `world`; every step zeroes them (CLR) so they
 * never tell two states apart. */
#define CLR xi = 0; xq = 0; xt = 0; xf = 0; xk = 0; xv = 0; xw = 0

inline mx(a, b) { if :: (b) > (a) -> a = b :: else fi }

/* P2 validity, checked whenever any node marks t committed */
inline check_validity(t) {
  xq = 0;
  do
  :: xq < N -> assert(VINC(txv[t], xq) == 0 || vote[t*N+xq] == YES); xq++
  :: else -> break
  od
}

inline commit_at(n, t, f) {
  assert(!everA[t]);                       /* P1 agreement */
  assert(everF[t] == 0 || everF[t] == f);  /* P1: one final timestamp */
  check_validity(t);                       /* P2 */
  everC[t] = 1; everF[t] = f;
  tst[IX(n,t)] = CM; tk[IX(n,t)] = f;
  mx(clk[n], CNT(f));                      /* R-CLOCK */
  printf("MSC: n%d commits t%d f=%d\n", n, t, f)
}

inline abort_at(n, t) {
  assert(!everC[t]);                       /* P1 agreement */
  everA[t] = 1;
  tst[IX(n,t)] = AB;
  printf("MSC: n%d aborts t%d\n", n, t)
}

/* R-DELIVER: the committed, undelivered tx with the smallest f, while no
 * undecided tx has a smaller key. Only with full state (R-SYNC-VOTE). */
inline try_deliver(n) {
  if
  :: fst[n] && (st[n] == NORMAL || st[n] == VC) ->
     do
     :: xk = 255; xi = 0; xt = 0;
        do
        :: xt < NTX -> if :: tst[IX(n,xt)] == CM && tk[IX(n,xt)] < xk -> xk = tk[IX(n,xt)]; xi = xt+1 :: else fi; xt++
        :: else -> break
        od;
        if :: xi == 0 -> break :: else fi;
        xf = 0; xt = 0;
        do
        :: xt < NTX -> if :: UNDEC(tst[IX(n,xt)]) && tk[IX(n,xt)] < xk -> xf = 1 :: else fi; xt++
        :: else -> break
        od;
#ifdef MUT_DELIVER_PAST
        xf = 0;
#endif
        if :: xf -> break :: else fi;
        xt = xi - 1;
        assert(txep[xt] == ep[n]);           /* P4 epoch cut: nothing of a closed epoch after its boundary */
        if                                   /* P3 total order */
        :: lg[n] != 0 -> xw = ((lg[n] & 3) == 1 -> 1 : 2);
           assert(ord == 0 || ord == xw); ord = xw
        :: else
        fi;
        lg[n] = lg[n] | ((xt+1) << (2*LG_LEN(lg[n])));
        tst[IX(n,xt)] = DL;
        printf("MSC: n%d delivers t%d f=%d\n", n, xt, xk)
     od
  :: else
  fi
}

/* freeze_epoch: no more votes or acks in this epoch, ever */
inline freeze(n) {
  if :: st[n] == NORMAL || st[n] == SYNC -> st[n] = VC :: else fi
}

inline drop_proposal(n) {
  pb[n] = 0; pacc[n] = 0; pprom[n] = 0; pmem[n] = 0; pagg[n] = 0; pbb[n] = 0; pbe[n] = 0; pecr[n] = 0; pad[n] = 0
}

/* R-VC-PREPARE, the acceptor's answer (make_promise) into its promise slot */
inline make_promise(p, b, tg) {
  prb[p] = b; pri[p] = inc[p]; prx[p] = amn[p]; prr[p] = 0; prab[p] = 0; prae[p] = 0;
  if
  :: tg == ep[p] + 1 ->
     xt = 0;
     do
     :: xt < NTX ->
        xv = tst[IX(p,xt)];
        if :: xv == DL -> xv = CM :: else fi;
        if :: xv == PC || xv == CM -> xv = xv | (tk[IX(p,xt)] << 3) :: else fi;
        prr[p] = prr[p] | (xv << (8*xt)); xt++
     :: else -> break
     od;
     if :: vacce[p] != 0 && E_CL(vacce[p]) == ep[p] -> prab[p] = vaccb[p]; prae[p] = vacce[p] :: else fi
  :: else ->   /* behind: no reports */
     if :: vacce[p] != 0 && E_CL(vacce[p]) + 1 == tg -> prab[p] = vaccb[p]; prae[p] = vacce[p] :: else fi
  fi;
  printf("MSC: n%d promises b=%d to n%d\n", p, b, b % N)
}

/* R-VC-DECIDE (build_ecr) */
inline build_ecr(n) {
#ifndef MUT_3PC
  if
  :: pbb[n] != 0 -> xv = pbe[n]      /* Paxos: re-propose the highest accepted */
  :: else ->
#else
  if
  :: true ->                         /* mutation: classic 3PC termination, from the reports only */
#endif
     xv = ep[n]; xt = 0;
     do
     :: xt < NTX ->
        xw = (pagg[n] >> (8*xt)) & 255;
        if
        :: started[xt] && txep[xt] == ep[n] && (xw & (G_C|G_PC)) -> xv = xv | ((1 | ((xw >> 3) << 1)) << (2+6*xt))
        :: else
        fi;
        xt++
     :: else -> break
     od;
     /* M': promisers, then joiners heard, then members of the view heard */
     xw = pmem[n]; xq = 0;
     do
     :: xq < N ->
        if
        :: VINC(xw,xq) == 0 && up[xq] && LINK(xq,n) && st[xq] == JOIN && jreq[xq] == inc[xq] -> xw = xw | (inc[xq] << (2*xq))
        :: else
        fi;
        xq++
     :: else -> break
     od;
     xq = 0;
     do
     :: xq < N ->
        if
        :: VINC(xw,xq) == 0 && VINC(myv[n],xq) != 0 && up[xq] && LINK(xq,n) -> xw = xw | (VINC(myv[n],xq) << (2*xq))
        :: else
        fi;
        xq++
     :: else -> break
     od;
     xv = xv | (xw << (2+6*NTX))
  fi;
  xw = 0
}

/* R-VC-INSTALL */
inline install(n, v) {
  if
  :: E_CL(v) == ep[n] && fst[n] && !amn[n] && st[n] != JOIN ->   /* apply_ecr */
     xt = 0;
     do
     :: xt < NTX ->
        if
        :: started[xt] && txep[xt] == ep[n] ->
           if
           :: E_COM(v,xt) ->
              if
              :: ISC(tst[IX(n,xt)]) -> assert(tk[IX(n,xt)] == E_F(v,xt))   /* P1 */
              :: else -> commit_at(n, xt, E_F(v,xt))
              fi
           :: else ->
              if :: UNDEC(tst[IX(n,xt)]) || ISC(tst[IX(n,xt)]) -> abort_at(n, xt) :: else fi
           fi
        :: else
        fi;
        xt++
     :: else -> break
     od;
#ifdef MUT_CUT
     fz[n] = lg[n];    /* mutation: the snapshot is frozen before the ECR's commits are delivered */
#endif
     try_deliver(n);
     xt = 0;
     do
     :: xt < NTX -> assert(!UNDEC(tst[IX(n,xt)]) && tst[IX(n,xt)] != CM); xt++
     :: else -> break
     od;
#ifndef MUT_CUT
     fz[n] = lg[n];    /* R-SNAPSHOT: exactly the epoch boundary */
#endif
     if                                   /* P4 epoch cut */
     :: snapset[E_CL(v)] -> assert(snap[E_CL(v)] == fz[n])
     :: else -> snapset[E_CL(v)] = 1; snap[E_CL(v)] = fz[n]
     fi
  :: else -> fst[n] = 0
  fi;
  xt = 0;
  do
  :: xt < NTX -> tst[IX(n,xt)] = 0; tk[IX(n,xt)] = 0; xt++
  :: else -> break
  od;
  if :: n < NTX && cph[n] != 0 -> cph[n] = DECIDED :: else fi;
  xt = 0; xk = 0;
  do
  :: xt < NTX -> if :: E_COM(v,xt) -> mx(xk, CNT(E_F(v,xt))) :: else fi; xt++
  :: else -> break
  od;
  mx(clk[n], xk + 1);                     /* base_ts */
  ep[n] = E_CL(v) + 1; myv[n] = E_MEM(v);
  /* forget an accepted ECR only if its instance is over (enter_view): one
   * accepted while behind, for a later instance, must still be reported */
  if :: vacce[n] != 0 && E_CL(vacce[n]) < ep[n] -> vaccb[n] = 0; vacce[n] = 0 :: else fi;
  drop_proposal(n);
  xi = (VINC(E_MEM(v), n) == inc[n]);   /* named at this incarnation */
  if
  :: xi -> amn[n] = 0;
     if :: fst[n] -> st[n] = NORMAL :: else -> st[n] = SYNC fi
  :: else -> st[n] = JOIN; fst[n] = 0
  fi;
  printf("MSC: n%d installs view %d (ecr %d), member %d\n", n, ep[n], v, xi)
}

inline choose(n) {
  xe = E_CL(pecr[n]);
  if
  :: nv[xe] != 0 -> assert(nv[xe] == pecr[n])   /* P1: one ECR per epoch */
  :: else -> nv[xe] = pecr[n]; nvs[xe] = n; nvi[xe] = inc[n]
  fi;
  printf("MSC: n%d: ecr %d chosen for epoch %d at b=%d\n", n, pecr[n], xe, pb[n]);
  xe = pecr[n];
  install(n, xe);
  xe = 0
}

/* a proposer takes one promise (on_promise) */
inline collect(n, p) {
#ifndef NO_P8
  assert(!prx[p]);                        /* P8: a node without memory is never counted */
#endif
  pprom[n] = pprom[n] | (1 << p);
  pmem[n] = pmem[n] | (pri[p] << (2*p));
  xt = 0;
  do
  :: xt < NTX ->
     xk = R_ST(prr[p],xt); xf = R_F(prr[p],xt); xw = (pagg[n] >> (8*xt)) & 255;
     if
     :: xk == CM -> assert((xw & (G_C|G_PC)) == 0 || (xw >> 3) == xf); xw = (xw & 7) | G_C | (xf << 3)
     :: xk == PC -> assert((xw & (G_C|G_PC)) == 0 || (xw >> 3) == xf); xw = (xw & 7) | G_PC | (xf << 3)
     :: xk == AB -> xw = xw | G_A
     :: else
     fi;
     assert(!((xw & (G_C|G_PC)) && (xw & G_A)));   /* P1 across the promisers */
     pagg[n] = (pagg[n] & ~(255 << (8*xt))) | (xw << (8*xt));
     xt++
  :: else -> break
  od;
  if :: prab[p] > pbb[n] -> pbb[n] = prab[p]; pbe[n] = prae[p] :: else fi;
  if
  :: POP(pprom[n]) >= MAJ ->
     build_ecr(n);
     pecr[n] = xv; pacc[n] = 1;
     vaccb[n] = pb[n]; vacce[n] = xv;
     axb[n] = pb[n]; axe[n] = xv; axi[n] = inc[n];
     adb[n] = pb[n]; adi[n] = inc[n]; adx[n] = amn[n];
     pad[n] = 1 << n;
     printf("MSC: n%d proposes ecr %d at b=%d\n", n, xv, pb[n]);
     if :: POP(pad[n]) >= MAJ -> choose(n) :: else fi
  :: else
  fi
}

/* ------------------------------------------------------------ steps */

/* R-BATCH / R-CANCOMMIT */
#define START_OK(t) ((t) < NSTART && up[t] && !started[t] && st[t] == NORMAL && ep[t] <= TXMAXE)
inline do_start(t) {
  started[t] = 1; txep[t] = ep[t]; txinc[t] = inc[t]; txv[t] = myv[t]; cph[t] = VOTING;
  printf("MSC: n%d starts t%d in epoch %d\n", t, t, ep[t])
}

/* R-VOTE-YES */
#define VOTE_OK(p,t) (started[t] && vote[(t)*N+(p)] == 0 && RD(t, txinc[t], p) && \
                      ep[p] == txep[t] && (st[p] == NORMAL || st[p] == SYNC) && \
                      VINC(myv[p],p) == inc[p] && VINC(myv[p],t) == txinc[t])
inline do_vote(p, t) {
  assert(clk[p] < MAXC);                   /* a model bound, not a property */
  clk[p]++;
  vote[t*N+p] = YES; vts[t*N+p] = TS(clk[p], p);
  tst[IX(p,t)] = W; tk[IX(p,t)] = TS(clk[p], p);
  printf("MSC: n%d votes yes on t%d ts=%d\n", p, t, vts[t*N+p])
}
/* R-VOTE-NO: WRONG_EPOCH / NOT_MEMBER leave no record; VIEW_CHANGING (and
 * OVERLOADED) are the member's unilateral abort */
#ifdef OVERLOAD
#define NOREASON(p,t) (!VOTE_OK(p,t) || st[p] == NORMAL)
#else
#define NOREASON(p,t) (!VOTE_OK(p,t))
#endif
#define VOTENO_OK(p,t) (started[t] && vote[(t)*N+(p)] == 0 && RD(t, txinc[t], p) && NOREASON(p,t))
inline do_voteno(p, t) {
  vote[t*N+p] = NO;
  if :: ep[p] == txep[t] && st[p] != JOIN && tst[IX(p,t)] == 0 -> abort_at(p, t) :: else fi;
  printf("MSC: n%d votes no on t%d\n", p, t)
}

/* R-PRECOMMIT / R-ABORT-EARLY */
#ifdef MUT_VOTE_MAJ
#define ENOUGH_YES(t) (SUMN(YESQ,t) >= MAJ)      /* mutation: a majority of yes votes is enough */
#else
#define ENOUGH_YES(t) (SUMN(YESQ,t) == SUMN(ISMEM,txv[t]))
#endif
#define COORD_OK(t) (up[t] && inc[t] == txinc[t] && cph[t] == VOTING && (SUMN(NOQ,t) > 0 || ENOUGH_YES(t)))
inline do_coord(t) {
  if
  :: SUMN(NOQ,t) > 0 -> dec[t] = ABORT; cph[t] = DECIDED; printf("MSC: n%d decides abort t%d\n", t, t)
  :: else ->
     xq = 0; xf = 0;
     do
     :: xq < N -> if :: YESQ(t,xq) -> mx(xf, vts[t*N+xq]) :: else fi; xq++
     :: else -> break
     od;
     pcf[t] = xf; mx(clk[t], CNT(xf)); cph[t] = PRECOMMITTING;
     printf("MSC: n%d sends PreCommit(t%d, f=%d)\n", t, t, xf)
  fi
}

/* R-PC-ACCEPT (the coordinator's own acceptance included) */
#ifdef MUT_NO_FREEZE
#define CANACK(p) (st[p] == NORMAL || st[p] == SYNC || st[p] == VC)
#else
#define CANACK(p) (st[p] == NORMAL || st[p] == SYNC)
#endif
#define PCACC_OK(p,t) (pcf[t] != 0 && RD(t, txinc[t], p) && tst[IX(p,t)] == W && ep[p] == txep[t] && CANACK(p))
inline do_pcacc(p, t) {
  tst[IX(p,t)] = PC; tk[IX(p,t)] = pcf[t]; mx(clk[p], CNT(pcf[t]));
  ackm[t] = ackm[t] | (1 << p);
  printf("MSC: n%d acks PreCommit t%d\n", p, t)
}

/* R-DOCOMMIT */
#ifdef MUT_VOTE_MAJ
#define ENOUGH_ACKS(t) (SUMN(ACKQ,t) >= MAJ)      /* mutation: a quorum-style commit */
#else
#define ENOUGH_ACKS(t) (SUMN(ACKQ,t) == SUMN(ISMEM,txv[t]))
#endif
#define ACKS_OK(t) (up[t] && inc[t] == txinc[t] && cph[t] == PRECOMMITTING && ENOUGH_ACKS(t))
inline do_acks(t) {
  dec[t] = COMMIT; cph[t] = DECIDED;
  printf("MSC: n%d decides commit t%d f=%d\n", t, t, pcf[t])
}

/* R-DOCOMMIT / R-DOABORT at a member */
#define LEARN_OK(p,t) (dec[t] != 0 && RD(t, txinc[t], p) && UNDEC(tst[IX(p,t)]) && ep[p] == txep[t])
inline do_learn(p, t) {
  if :: dec[t] == COMMIT -> commit_at(p, t, pcf[t]) :: else -> abort_at(p, t) fi;
  try_deliver(p)
}

/* R-DECISION-QUERY: a peer that knows the outcome answers */
#define PEER_OK(p,t) (up[p] && UNDEC(tst[IX(p,t)]) && SUMN2(KNOWS,p,t) > 0)
inline do_peer(p, t) {
  xq = 0;
  do
  :: KNOWS(p,t,xq) -> break
  :: else -> xq++
  od;
  xf = tk[IX(xq,t)];
  if :: ISC(tst[IX(xq,t)]) -> commit_at(p, t, xf) :: else -> abort_at(p, t) fi;
  try_deliver(p)
}

/* R-SUSPECT / R-VC-RETRY: timers. Before calm a node may suspect at any time
 * (false suspicion); once calm, only for a reason (a member down or another
 * incarnation, a node asking to join) or, in VIEW_CHANGE, when no attempt is
 * alive (the random backoff lets one attempt run alone). */
#define UPQ(a,q) (up[q] && VINC(myv[a],q) == inc[q])
#ifdef MUT_NO_SUSPECT
#define CALM_REASON(n) (st[n] == VC && SUMN(LIVEP,0) == 0)    /* mutation: R-SUSPECT never fires */
#else
#define CALM_REASON(n) ((st[n] == NORMAL && SUMN(UPQ,n) < N) || (st[n] == VC && SUMN(LIVEP,0) == 0))
#endif
#define VCSTART_OK(n) (BIT(PROPOSERS,n) && up[n] && !amn[n] && (st[n] == NORMAL || st[n] == VC) && pb[n] == 0 && \
                       ep[n] < MAXE && NEXTCNT(n) <= BUDGETB && (!calm || CALM_REASON(n)))
inline do_vcstart(n) {
  xk = NEXTCNT(n);
  vseen[n] = xk; vprom[n] = TS(xk, n);
  freeze(n);
  pb[n] = TS(xk, n);
  pp[n] = pb[n]; ptg[n] = ep[n] + 1; ppi[n] = inc[n];
  printf("MSC: n%d starts a view change b=%d for epoch %d\n", n, pb[n], ep[n] + 1);
  make_promise(n, pb[n], ptg[n]);
  collect(n, n)
}

/* R-AMNESIA: a new incarnation answers no VcPrepare or VcAccept */
#ifdef MUT_AMNESIA
#define MEMORY(p) true
#else
#define MEMORY(p) (!amn[p])
#endif

/* R-VC-PREPARE at an acceptor */
#define PROM_OK(p,n) ((p) != (n) && MEMORY(p) && pp[n] != 0 && RD(n, ppi[n], p) && ptg[n] > ep[p] && pp[n] > vprom[p])
inline do_prom(p, n) {
  mx(vseen[p], CNT(pp[n]));
  vprom[p] = pp[n];
  freeze(p);                               /* defer_to */
  if :: pb[p] != 0 && pb[p] < pp[n] -> drop_proposal(p) :: else fi;
  make_promise(p, pp[n], ptg[n])
}

#define COLLECT_OK(n,p) (up[n] && pb[n] != 0 && !pacc[n] && prb[p] == pb[n] && !BIT(pprom[n],p) && RD(p, pri[p], n))

/* R-VC-ACCEPT at an acceptor */
#ifdef MUT_NO_PROMISE
#define PROMISE_CHECK(p,n) true
#else
#define PROMISE_CHECK(p,n) (axb[n] >= vprom[p])
#endif
#ifdef MUT_ACCEPT_AHEAD
#define ACC_EPOCH(p,n) (E_CL(axe[n]) >= ep[p])   /* the rule before finding F1: an acceptor behind accepted */
#else
#define ACC_EPOCH(p,n) (E_CL(axe[n]) == ep[p])   /* handle(VcAccept): only the record closing our own epoch */
#endif
#define ACC_OK(p,n) ((p) != (n) && MEMORY(p) && axb[n] != 0 && RD(n, axi[n], p) && ACC_EPOCH(p,n) && \
                     PROMISE_CHECK(p,n) && vaccb[p] != axb[n])
inline do_acc(p, n) {
  mx(vseen[p], CNT(axb[n]));
  mx(vprom[p], axb[n]);
  vaccb[p] = axb[n]; vacce[p] = axe[n];
  freeze(p);
  if :: pb[p] != 0 && pb[p] < axb[n] -> drop_proposal(p) :: else fi;
  adb[p] = axb[n]; adi[p] = inc[p]; adx[p] = amn[p];
  printf("MSC: n%d accepts ecr %d at b=%d\n", p, axe[n], axb[n])
}

#define ACCD_OK(n,p) (up[n] && pb[n] != 0 && pacc[n] && adb[p] == pb[n] && !BIT(pad[n],p) && RD(p, adi[p], n))
inline do_accd(n, p) {
#ifndef NO_P8
  assert(!adx[p]);                         /* P8 */
#endif
  pad[n] = pad[n] | (1 << p);
  if :: POP(pad[n]) >= MAJ -> choose(n) :: else fi
}

/* a proposer gives up its attempt: any time before calm (vc_timeout_ms),
 * once calm only when a majority can no longer serve it */
#define ABANDON_OK(n) (up[n] && pb[n] != 0 && (!calm || SUMN(SERVES,n) < MAJ))
inline do_abandon(n) {
  printf("MSC: n%d abandons b=%d\n", n, pb[n]);
  drop_proposal(n)
}

/* R-VC-INSTALL via NewView from the chooser, or R-CATCH-UP from a node that installed it */
#define INST_OK(p,e) (nv[e] != 0 && (e) + 1 > ep[p] && (RD(nvs[e], nvi[e], p) || (up[p] && SUMN2(PUSHER,p,e) > 0)))

/* R-SNAPSHOT / R-SYNC-VOTE */
#define SNAP_OK(p) (up[p] && st[p] == SYNC && SUMN(DONOR,p) > 0)
inline do_snap(p) {
  xq = 0;
  do
  :: DONOR(p,xq) -> break
  :: else -> xq++
  od;
  lg[p] = fz[xq];
  assert(snapset[ep[p]-1] && snap[ep[p]-1] == lg[p]);   /* P4 */
  fz[p] = lg[p]; fst[p] = 1; st[p] = NORMAL;
  printf("MSC: n%d installs the snapshot of epoch %d from n%d\n", p, ep[p]-1, xq);
  try_deliver(p)
}

/* environment */
inline do_crash(n) {
  up[n] = 0; crashes++; inc[n]++;
  st[n] = JOIN; fst[n] = 0; amn[n] = 1; ep[n] = 0; myv[n] = 0; clk[n] = 0;
  vprom[n] = 0; vseen[n] = 0; vaccb[n] = 0; vacce[n] = 0; lg[n] = 0; fz[n] = 0;
  xt = 0;
  do
  :: xt < NTX -> tst[IX(n,xt)] = 0; tk[IX(n,xt)] = 0; xt++
  :: else -> break
  od;
  drop_proposal(n);
  if :: n < NTX && cph[n] != 0 && cph[n] != DECIDED -> cph[n] = 0 :: else fi;
  printf("MSC: n%d crashes\n", n)
}

#define CRASH_OK(n)   (up[n] && !calm && crashes < CRASHES)
#define RESTART_OK(n) (!up[n] && !calm)
#define CUT_OK(a,b)   ((a) != (b) && !calm && cuts < CUTS && !cut[(a)*N+(b)])
#define HEAL_OK(a,b)  ((a) != (b) && cut[(a)*N+(b)])

#define BR_START(t)    :: d_step { START_OK(t) -> do_start(t); CLR }
#define BR_VOTE(p,t)   :: d_step { VOTE_OK(p,t) -> do_vote(p,t); CLR }
#define BR_VOTENO(p,t) :: d_step { VOTENO_OK(p,t) -> do_voteno(p,t); CLR }
#define BR_COORD(t)    :: d_step { COORD_OK(t) -> do_coord(t); CLR }
#define BR_PCACC(p,t)  :: d_step { PCACC_OK(p,t) -> do_pcacc(p,t); CLR }
#define BR_ACKS(t)     :: d_step { ACKS_OK(t) -> do_acks(t); CLR }
#define BR_LEARN(p,t)  :: d_step { LEARN_OK(p,t) -> do_learn(p,t); CLR }
#define BR_PEER(p,t)   :: d_step { PEER_OK(p,t) -> do_peer(p,t); CLR }
#define BR_VCSTART(n)  :: d_step { VCSTART_OK(n) -> do_vcstart(n); CLR }
#define BR_PROM(p,n)   :: d_step { PROM_OK(p,n) -> do_prom(p,n); CLR }
#define BR_COLLECT(n,p) :: d_step { COLLECT_OK(n,p) -> collect(n,p); CLR }
#define BR_ACC(p,n)    :: d_step { ACC_OK(p,n) -> do_acc(p,n); CLR }
#define BR_ACCD(n,p)   :: d_step { ACCD_OK(n,p) -> do_accd(n,p); CLR }
#define BR_ABANDON(n)  :: d_step { ABANDON_OK(n) -> do_abandon(n); CLR }
#define BR_INST(p)     :: d_step { INST_OK(p,1) -> xe = nv[1]; install(p,xe); xe = 0; CLR }
#define BR_INST2(p)    :: d_step { INST_OK(p,2) -> xe = nv[2]; install(p,xe); xe = 0; CLR }
#define BR_SNAP(p)     :: d_step { SNAP_OK(p) -> do_snap(p); CLR }
#define BR_CRASH(n)    :: d_step { CRASH_OK(n) -> do_crash(n); CLR }
#define BR_RESTART(n)  :: d_step { RESTART_OK(n) -> up[n] = 1; jreq[n] = inc[n]; printf("MSC: n%d restarts as incarnation %d\n", n, inc[n]) }
#define BR_CUT(a,b)    :: d_step { CUT_OK(a,b) -> cut[(a)*N+(b)] = 1; cuts++; printf("MSC: link n%d->n%d cut\n", a, b) }
#define BR_HEAL(a,b)   :: d_step { HEAL_OK(a,b) && !calm -> cut[(a)*N+(b)] = 0; printf("MSC: link n%d->n%d healed\n", a, b) }

/* P5 liveness: every started transaction decided at every live node that
 * holds it, and at its live coordinator */
#define SETTLED_T(t) (!started[t] || \
  (SUMN(HOLDS,t) == 0 && !(up[t] && inc[t] == txinc[t] && (cph[t] == VOTING || cph[t] == PRECOMMITTING))))
#define HOLDS(t,q) (up[q] && UNDEC(tst[IX(q,t)]))
#define settled (SETTLED_T(0) && SETTLED_T(1))

active proctype world() {
  byte xi, xq, xt, xf, xk;
  int xv, xw, xe;
  byte n;
  d_step {
    n = 0;
    do
    :: n < N -> up[n] = 1; inc[n] = 1; st[n] = NORMAL; fst[n] = 1; ep[n] = 1; n++
    :: else -> break
    od;
    n = 0;
    do
    :: n < N -> myv[0] = myv[0] | (1 << (2*n)); n++
    :: else -> break
    od;
    n = 1;
    do
    :: n < N -> myv[n] = myv[0]; n++
    :: else -> break
    od;
    n = 0;
    snapset[0] = 1
  }
end:
  do
  FORT(BR_START)
  FORNT(BR_VOTE)
  FORNT(BR_VOTENO)
  FORT(BR_COORD)
  FORNT(BR_PCACC)
  FORT(BR_ACKS)
  FORNT(BR_LEARN)
  FORNT(BR_PEER)
  FORN(BR_VCSTART)
  FORNN(BR_PROM)
  FORNN(BR_COLLECT)
  FORNN(BR_ACC)
  FORNN(BR_ACCD)
  FORN(BR_ABANDON)
  FORN(BR_INST)
#if MAXE >= 3
  FORN(BR_INST2)
#endif
  FORN(BR_SNAP)
  FORN(BR_CRASH)
  FORN(BR_RESTART)
  FORNN(BR_CUT)
  FORNN(BR_HEAL)
#ifdef LIVE
  :: d_step { !calm -> calm = 1; xq = 0;
       do
       :: xq < N*N -> cut[xq] = 0; xq++
       :: else -> break
       od;
       xq = 0;
       printf("MSC: calm: no more faults, every link healed\n") }
#endif
  od
}

#ifdef LIVE
/* P5: assumption: once calm (no new fault, every link healed, at most
 * CRASHES < majority nodes down), timers fire only for a reason and one
 * view-change attempt runs alone (backoff), live senders resend. */
ltl live { [] (calm -> <> settled) }
#endif
