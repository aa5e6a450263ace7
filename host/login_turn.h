/* login_turn — the sign-ins from one client address take turns within a
 * host.
 *
 * A sign-in counts as a failure from before its password is checked until
 * it succeeds (identity.c's login_admit), so that tries made at once (on
 * this host or others) cannot slip past the throttle.  Tries from one
 * address that overlapped then counted against each other: 16 sign-ins of
 * one user at once (a script's workers, a browser's tabs) got 429 from the
 * sixth on (the name's limit from an address), and 21 people behind one
 * NAT signing in together would have from the 21st on (the address's
 * limit), though none had failed.  With turns, each try waits until the
 * one before it from its address on this host has its answer, and sees
 * the counts that answer left (a success forgets its name's failures from
 * there): as if they had come one after another, which is what the limits
 * are written for.  Password checks run one at a time in a host anyway
 * (auth.c's AUTH_HASH_PARALLEL), so turns cost sign-ins no throughput; and
 * a guesser gains nothing, since every try is still counted before its
 * password is checked.  Tries on other hosts do not wait for these: they
 * count against each other, as they must.
 *
 * A turn is waited for at most LOGIN_TURN_WAIT seconds; then the try goes
 * on without it, counted as before.  The table holds one entry per address
 * with a try under way (bounded by the connections), behind one mutex.
 */
#ifndef FLOWHOST_LOGIN_TURN_H
#define FLOWHOST_LOGIN_TURN_H

#define LOGIN_TURN_WAIT 10.0

typedef struct login_turn login_turn;

/* Waits for the turn of addr; NULL when it went on without one (out of
 * memory, or waited LOGIN_TURN_WAIT).  Give it back with login_turn_give,
 * whatever the try's outcome. */
login_turn *login_turn_take(const char *addr);
void login_turn_give(login_turn *t);   /* NULL: nothing */

/* Addresses with a try under way or waiting (for the tests). */
int login_turn_addresses(void);

#endif
