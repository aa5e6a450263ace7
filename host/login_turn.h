/* login_turn — sign-ins of one user name from one client address take
 * turns within a host.
 *
 * A sign-in counts as a failure from before its password is checked until
 * it succeeds (identity.c's login_admit), so that tries made at once (on
 * this host or others) cannot slip past the throttle.  Tries of one name
 * from one address that overlapped then counted against each other: 16
 * sign-ins of one user at once (a script's workers, a browser's tabs) got
 * 429 from the sixth on, though none had failed.  With turns, each waits
 * until the one before it on this host has its answer and sees the count
 * that answer left (a success forgets the pair's failures).  Password
 * checks run one at a time in a host anyway (auth.c's AUTH_HASH_PARALLEL),
 * so turns cost sign-ins no throughput; and a guesser gains nothing, since
 * every try is still counted before its password is checked.  Tries on
 * other hosts do not wait for these: they count against each other, as
 * they must.
 *
 * A turn is waited for at most LOGIN_TURN_WAIT seconds; then the try goes
 * on without it, counted as before.  The table holds one entry per pair
 * with a try under way (bounded by the connections), behind one mutex.
 */
#ifndef FLOWHOST_LOGIN_TURN_H
#define FLOWHOST_LOGIN_TURN_H

#define LOGIN_TURN_WAIT 10.0

typedef struct login_turn login_turn;

/* Waits for the turn of (name, addr); NULL when it went on without one
 * (out of memory, or waited LOGIN_TURN_WAIT).  Give it back with
 * login_turn_give, whatever the try's outcome. */
login_turn *login_turn_take(const char *name, const char *addr);
void login_turn_give(login_turn *t);   /* NULL: nothing */

/* Pairs with a try under way or waiting (for the tests). */
int login_turn_pairs(void);

#endif
