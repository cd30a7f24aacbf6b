/**
 * @file int128.h
 * @brief 128-bit integer types used for exact sums and notionals.
 *
 * GCC and Clang provide __int128 on 64-bit targets; __extension__ keeps
 * -Wpedantic quiet about it.
 */
#ifndef SHMEX_INT128_H
#define SHMEX_INT128_H

__extension__ typedef __int128 shmex_i128;
__extension__ typedef unsigned __int128 shmex_u128;

#endif /* SHMEX_INT128_H */
