/* The umbrella header (PCIDriverKit/PCIDriverKit.h). */
#ifndef VFA_SDK_PCIDK_H
#define VFA_SDK_PCIDK_H
#include <PCIDriverKit/IOPCIDevice.h>
#endif
