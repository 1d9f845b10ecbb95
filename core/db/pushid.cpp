// SPDX-License-Identifier: MIT
#include "pushid.h"

#include <QRandomGenerator>

#include <array>
#include <mutex>

namespace lark
{

QString generatePushId(qint64 nowMs)
{
    static constexpr char Alphabet[] = "-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz";
    static std::mutex mutex;
    static qint64 lastTime = 0;
    static std::array<int, 12> lastRandom {};
    std::lock_guard lock(mutex);

    const bool sameMs = nowMs == lastTime;
    lastTime = nowMs;
    QString id(20, QChar());
    qint64 t = nowMs;
    for (int i = 7; i >= 0; --i) {
        id[i] = QLatin1Char(Alphabet[t % 64]);
        t /= 64;
    }
    if (!sameMs) {
        for (int &r : lastRandom)
            r = int(QRandomGenerator::global()->bounded(64));
    } else {
        // Same millisecond: add one to the random part so ids stay strictly increasing.
        int i = 11;
        while (i >= 0 && lastRandom[i] == 63) {
            lastRandom[i] = 0;
            --i;
        }
        if (i >= 0)
            ++lastRandom[i];
    }
    for (int i = 0; i < 12; ++i)
        id[8 + i] = QLatin1Char(Alphabet[lastRandom[i]]);
    return id;
}

} // namespace lark
