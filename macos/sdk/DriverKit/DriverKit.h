/* The umbrella header (DriverKit/DriverKit.h): what dext/macos uses. */
#ifndef VFA_SDK_DK_DRIVERKIT_H
#define VFA_SDK_DK_DRIVERKIT_H

#include <DriverKit/IOReturn.h>
#include <DriverKit/OSObject.h>
#include <DriverKit/OSAction.h>
#include <DriverKit/OSData.h>
#include <DriverKit/IOLib.h>
#include <DriverKit/IOService.h>
#include <DriverKit/IOUserClient.h>
#include <DriverKit/IODispatchQueue.h>
#include <DriverKit/IOMemoryDescriptor.h>
#include <DriverKit/IOBufferMemoryDescriptor.h>
#include <DriverKit/IODMACommand.h>
#include <DriverKit/IOInterruptDispatchSource.h>

#endif
