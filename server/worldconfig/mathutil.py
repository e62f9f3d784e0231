"""Tiny vector/quaternion helpers (no numpy: the server core should not need it)."""

from __future__ import annotations

import math

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]  # (x, y, z, w), same order as three.js


def euler_deg_to_quat(euler: Vec3) -> Quat:
    """Euler angles in degrees, order XYZ, to a quaternion.

    Matches three.js ``Quaternion.setFromEuler`` with the default 'XYZ' order so
    the server's quaternions and the client's Euler-built objects agree.
    """
    x, y, z = (math.radians(a) / 2 for a in euler)
    c1, c2, c3 = math.cos(x), math.cos(y), math.cos(z)
    s1, s2, s3 = math.sin(x), math.sin(y), math.sin(z)
    q = (
        s1 * c2 * c3 + c1 * s2 * s3,
        c1 * s2 * c3 - s1 * c2 * s3,
        c1 * c2 * s3 + s1 * s2 * c3,
        c1 * c2 * c3 - s1 * s2 * s3,
    )
    return _clean(q)


def yaw_quat(yaw_deg: float) -> Quat:
    return euler_deg_to_quat((0.0, yaw_deg, 0.0))


def quat_mul(a: Quat, b: Quat) -> Quat:
    """Hamilton product a*b (apply b first, then a)."""
    ax, ay, az, aw = a
    bx, by, bz, bw = b
    return _clean(
        (
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
            aw * bw - ax * bx - ay * by - az * bz,
        )
    )


def quat_rotate(q: Quat, v: Vec3) -> Vec3:
    qx, qy, qz, qw = q
    vx, vy, vz = v
    # t = 2 * cross(q.xyz, v); v' = v + w*t + cross(q.xyz, t)
    tx = 2 * (qy * vz - qz * vy)
    ty = 2 * (qz * vx - qx * vz)
    tz = 2 * (qx * vy - qy * vx)
    return _clean3(
        (
            vx + qw * tx + (qy * tz - qz * ty),
            vy + qw * ty + (qz * tx - qx * tz),
            vz + qw * tz + (qx * ty - qy * tx),
        )
    )


def add(a: Vec3, b: Vec3) -> Vec3:
    return _clean3((a[0] + b[0], a[1] + b[1], a[2] + b[2]))


def mul(a: Vec3, b: Vec3) -> Vec3:
    return (a[0] * b[0], a[1] * b[1], a[2] * b[2])


def scaled(a: Vec3, k: float) -> Vec3:
    return (a[0] * k, a[1] * k, a[2] * k)


def _clean(q: Quat) -> Quat:
    # Round away float noise so digests and JSON stay stable across platforms.
    x, y, z, w = (round(c, 9) + 0.0 for c in q)
    return (x, y, z, w)


def _clean3(v: Vec3) -> Vec3:
    x, y, z = (round(c, 9) + 0.0 for c in v)
    return (x, y, z)
