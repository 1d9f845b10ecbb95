// SPDX-License-Identifier: MIT
#include "pushencoder.h"

#include "protocol/framing.h"
#include "protocol/messages.h"

#include <QJsonObject>

namespace lark
{

const QList<QByteArray> &PushEncoder::wireFrames(const SharedEvent &event)
{
    if (event == m_last)
        return m_frames;
    m_last = event;
    const QString path = event->path.toString();
    const QByteArray message = event->kind == DataEvent::Kind::Merge
        ? protocol::mergePush(path, event->value.toObject(), event->tag)
        : protocol::dataPush(path, event->value, event->tag);
    m_frames.clear();
    if (message.size() <= protocol::MaxFrameBytes) {
        m_frames.append(protocol::serverTextFrame(message)); // nearly every push: no split list
    } else {
        for (const QByteArray &frame : protocol::splitFrames(message))
            m_frames.append(protocol::serverTextFrame(frame));
    }
    return m_frames;
}

} // namespace lark
