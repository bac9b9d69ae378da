// How `ip -j -d link show` describes a device's XDP programs, shared by the labs that check how
// one is attached. ip prints the attach mode as XDP_ATTACHED_* from include/uapi/linux/if_link.h.
export const XDP_ATTACHED_DRV = 1;
export const XDP_ATTACHED_SKB = 2;

export interface XdpLink {
  ifname: string;
  xdp?: { mode?: number; prog?: { id: number }; attached?: { mode: number; prog?: { id: number } }[] };
}

// Every program on the device with its mode: one attachment is printed flat, several as a list.
export const xdpAttachments = (link: XdpLink) =>
  link.xdp?.attached ?? (link.xdp?.mode ? [{ mode: link.xdp.mode, prog: link.xdp.prog }] : []);
